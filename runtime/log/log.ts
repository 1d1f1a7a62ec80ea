// One line per event, in logfmt: `ts=… level=info event=member-status member=n3 status=dead`.
// A person can read it over SSH at 3 a.m.; `grep`, `awk` and log shippers can parse it.

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: Level, event: string, fields?: Fields): void;
}

export function formatValue(v: string | number | boolean): string {
  const s = String(v);
  if (s !== '' && /^[^\s"=\\]+$/.test(s)) return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function formatLine(ts: Date, level: Level, event: string, fields: Fields = {}): string {
  let line = `ts=${ts.toISOString()} level=${level} event=${formatValue(event)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
  return line;
}

/** Parse one logfmt line back into fields (tests and tools use it). */
export function parseLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1') : raw;
  }
  return out;
}

/** A logger writing lines at or above `min` to `write`. */
export function lineLogger(write: (line: string) => void, min: Level = 'info', clock: () => Date = () => new Date()): Logger {
  return {
    log(level, event, fields) {
      if (ORDER[level] < ORDER[min]) return;
      write(formatLine(clock(), level, event, fields));
    },
  };
}

/** For code that wants a logger but has nowhere useful to write (offline CLI edits). */
export const nullLogger: Logger = { log: () => {} };
