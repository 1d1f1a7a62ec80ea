// One line per event, in logfmt: `ts=… level=info event=member-status member=n3 status=dead`.
// A person can read it over SSH at 3 a.m.; `grep`, `awk` and log shippers can parse it.
// Values come from the fleet (node ids, keys, addresses), so no field may carry a control
// character into the line: each is escaped, and the line stays one line of plain text.

import { escapeControl, hasControl, unescapeControl } from './escape.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: Level, event: string, fields?: Fields): void;
}

export function formatValue(v: string | number | boolean): string {
  const s = String(v);
  if (s !== '' && /^[^\s"=\\]+$/.test(s) && !hasControl(s)) return s;
  return `"${escapeControl(s).replace(/"/g, '\\"')}"`;
}

/** Field names are the code's own, but a line must stay one line whatever a caller passes. */
function formatKey(k: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(k) ? k : escapeControl(k).replace(/[\s"=]/g, '_');
}

export function formatLine(ts: Date, level: Level, event: string, fields: Fields = {}): string {
  let line = `ts=${ts.toISOString()} level=${level} event=${formatValue(event)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${formatKey(k)}=${formatValue(v)}`;
  return line;
}

/** Parse one logfmt line back into fields (tests and tools use it). */
export function parseLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith('"') ? unescapeControl(raw.slice(1, -1)) : raw;
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
