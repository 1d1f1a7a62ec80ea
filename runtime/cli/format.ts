// Human output of the CLI: aligned tables that fit the terminal (80 columns unless told
// otherwise), colour only where a person is looking, and short durations ("3.2s", "5m12s").
//
// Colour: on when stdout is a TTY, off when NO_COLOR is set to anything non-empty
// (https://no-color.org), forced on by FORCE_COLOR (not "0"). Width: $COLUMNS, else the TTY's
// width, else 80. Nothing here writes: commands build strings and hand them to io.out.

import { CliError, type CliIo } from './io.js';
import { decodeReading } from '../sensing/reading.js';

export interface Terminal {
  /** stdout is a terminal (a person is reading), not a pipe or file. */
  readonly tty: boolean;
  readonly color: boolean;
  /** Columns a line may use. */
  readonly width: number;
}

export const DEFAULT_WIDTH = 80;
const MIN_WIDTH = 40;

/** How the command's output should look, from its environment and where stdout goes. */
export function terminal(io: Pick<CliIo, 'env' | 'stdout'>): Terminal {
  const { env, stdout: stream } = io;
  const tty = stream.isTTY === true;
  let color = tty;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '0' && force !== 'false') color = true;
  const no = env['NO_COLOR'];
  if (no !== undefined && no !== '') color = false;
  let width = DEFAULT_WIDTH;
  const cols = Number(env['COLUMNS']);
  if (env['COLUMNS'] !== undefined && Number.isInteger(cols) && cols > 0) width = cols;
  else if (tty && stream.columns !== undefined && stream.columns > 0) width = stream.columns;
  return { tty, color, width: Math.max(MIN_WIDTH, width) };
}

// --- colour ---------------------------------------------------------------------------------

export type Paint = (s: string) => string;

export interface Palette {
  readonly green: Paint;
  readonly yellow: Paint;
  readonly red: Paint;
  readonly grey: Paint;
  readonly bold: Paint;
  readonly dim: Paint;
}

const sgr =
  (on: number, off: number): Paint =>
  (s) =>
    s === '' ? s : `\x1b[${on}m${s}\x1b[${off}m`;
const plain: Paint = (s) => s;

export function palette(color: boolean): Palette {
  if (!color) return { green: plain, yellow: plain, red: plain, grey: plain, bold: plain, dim: plain };
  return { green: sgr(32, 39), yellow: sgr(33, 39), red: sgr(31, 39), grey: sgr(90, 39), bold: sgr(1, 22), dim: sgr(2, 22) };
}

/** The colour of a member status: alive green, suspect yellow, dead red, left grey. */
export function statusPaint(p: Palette, status: string): Paint {
  switch (status) {
    case 'alive':
    case 'healthy':
    case 'fresh':
      return p.green;
    case 'suspect':
    case 'unreliable':
    case 'degraded':
    case 'stale':
    case 'searching':
    case 'isolated':
      return p.yellow;
    case 'dead':
    case 'error':
      return p.red;
    case 'left':
      return p.grey;
    default:
      return plain;
  }
}

/** Remove colour codes, e.g. to measure or compare a painted string. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

// --- text width and elision -----------------------------------------------------------------

/** Columns a string takes (code points; murmur's output has no wide characters). */
export function textWidth(s: string): number {
  let n = 0;
  for (const _ of stripAnsi(s)) n++;
  return n;
}

export type Elide = 'end' | 'middle';

/**
 * `s` in at most `width` columns. "end" keeps the start ("a long messa…"); "middle" keeps both
 * ends ("raspberr…3f2a"), for ids and keys whose tail tells them apart.
 */
export function elide(s: string, width: number, how: Elide = 'end'): string {
  const cps = [...s];
  if (cps.length <= width) return s;
  if (width <= 0) return '';
  if (width === 1) return '…';
  if (how === 'end') return cps.slice(0, width - 1).join('') + '…';
  const tail = Math.floor((width - 1) / 2);
  const head = width - 1 - tail;
  return cps.slice(0, head).join('') + '…' + cps.slice(cps.length - tail).join('');
}

// --- tables ---------------------------------------------------------------------------------

/** A cell: its text, and optionally a colour applied after alignment (so widths stay right). */
export type Cell = string | { readonly text: string; readonly paint?: Paint | undefined };

export interface Column {
  readonly head: string;
  readonly align?: 'left' | 'right';
  /**
   * How this column gives way when the table is too wide: "middle" or "end" elision, down to
   * `min` columns. Columns without it keep their width.
   */
  readonly elide?: Elide;
  readonly min?: number;
}

const GAP = 2;

/**
 * Rows aligned under their heads, two spaces apart, no trailing spaces. When the natural width
 * is over `width`, the widest elidable column is shortened first, one column at a time, until
 * the table fits or every elidable column is at its minimum (then lines stay long: better than
 * losing the columns that do not elide, such as status or numbers). No rows: `empty`.
 */
export function table(columns: readonly (Column | string)[], rows: readonly (readonly Cell[])[], opts: { width?: number; empty?: string } = {}): string {
  if (rows.length === 0) return opts.empty ?? '(none)';
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { head: c, elide: 'end' } : c));
  const text = (c: Cell | undefined): string => printable(c === undefined ? '' : typeof c === 'string' ? c : c.text);
  const widths = cols.map((c, i) => Math.max(textWidth(c.head), ...rows.map((r) => textWidth(text(r[i])))));
  const limit = opts.width ?? DEFAULT_WIDTH;
  const total = (): number => widths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, cols.length - 1);
  const floor = (i: number): number => Math.max(cols[i]!.min ?? 6, Math.min(textWidth(cols[i]!.head), 12));
  while (total() > limit) {
    let widest = -1;
    for (let i = 0; i < cols.length; i++) {
      if (cols[i]!.elide === undefined || widths[i]! <= floor(i)) continue;
      if (widest < 0 || widths[i]! > widths[widest]!) widest = i;
    }
    if (widest < 0) break;
    // Give up what is over the limit, but no more than down to the next widest elidable column,
    // so that several long columns share the cut.
    const w = widths[widest]!;
    const others = widths.filter((_, i) => i !== widest && cols[i]!.elide !== undefined);
    const next = others.length === 0 ? 0 : Math.max(...others);
    widths[widest] = Math.max(floor(widest), w - (total() - limit), Math.min(next, w - 1));
  }
  const line = (r: readonly Cell[], head: boolean): string => {
    const out: string[] = [];
    cols.forEach((c, i) => {
      const cell = r[i];
      const t = elide(text(cell), widths[i]!, c.elide ?? 'end');
      const pad = ' '.repeat(Math.max(0, widths[i]! - textWidth(t)));
      const paint = !head && cell !== undefined && typeof cell !== 'string' && cell.paint ? cell.paint : plain;
      out.push(c.align === 'right' ? pad + paint(t) : paint(t) + (i === cols.length - 1 ? '' : pad));
    });
    return out.join(' '.repeat(GAP)).trimEnd();
  };
  return [line(cols.map((c) => c.head), true), ...rows.map((r) => line(r, false))].join('\n');
}

/** "label  value" lines with the labels aligned; a value too long for the line wraps under itself. */
export function fields(pairs: readonly (readonly [string, string])[], opts: { width?: number } = {}): string {
  const w = Math.max(0, ...pairs.map(([k]) => textWidth(k)));
  const limit = opts.width ?? DEFAULT_WIDTH;
  const indent = ' '.repeat(w + GAP);
  return pairs
    .map(([k, v]) => {
      const body = textWidth(indent + v) > limit ? wrap(v, limit, indent).slice(indent.length) : v;
      return `${k.padEnd(w)}${' '.repeat(GAP)}${body}`.trimEnd();
    })
    .join('\n');
}

// --- numbers, durations ---------------------------------------------------------------------

/** A duration for people: "850ms", "3.2s", "42s", "5m", "5m12s" (under 10 min), "3h05m", "2d4h". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const neg = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms < 1000) return `${neg}${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 10) {
    const tenths = Math.floor(s * 10);
    return `${neg}${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)}s`;
  }
  if (s < 60) return `${neg}${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  if (m < 60) return `${neg}${m}m${m < 10 && sec > 0 ? `${String(sec).padStart(2, '0')}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${neg}${h}h${m % 60 > 0 ? `${String(m % 60).padStart(2, '0')}m` : ''}`;
  return `${neg}${Math.floor(h / 24)}d${h % 24 > 0 ? `${h % 24}h` : ''}`;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "5m", "1h30m", "500ms", "2d"; a bare number is seconds. Undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  let any = false;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = re.lastIndex;
    any = true;
  }
  return any && end === t.length ? Math.round(total) : undefined;
}

/** A number for a table: at most `digits` decimals, no trailing zeros, "-" if not a number. */
export function num(x: unknown, digits = 2): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '-';
  const f = 10 ** digits;
  return String(Math.round(x * f) / f);
}

/** "3 alive, 1 suspect" from {alive: 3, suspect: 1}, in the order members go through. */
export function counts(byStatus: Record<string, unknown>, p?: Palette): string {
  const order = ['alive', 'unreliable', 'suspect', 'dead', 'left'];
  const keys = [...order.filter((k) => k in byStatus), ...Object.keys(byStatus).filter((k) => !order.includes(k)).sort()];
  return keys
    .filter((k) => typeof byStatus[k] === 'number' && byStatus[k] > 0)
    .map((k) => `${String(byStatus[k])} ${p ? statusPaint(p, k)(k) : k}`)
    .join(', ');
}

/** A gossiped value as it is: strings bare, numbers and booleans as JSON, bytes as base64:<data>. */
export function rawValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { base64?: unknown }).base64 === 'string') return `base64:${(v as { base64: string }).base64}`;
  return JSON.stringify(v) ?? String(v);
}

/**
 * A gossiped value for a person: a sensor reading as "21.5 °C" (or "error: ..."), anything
 * else as rawValue, with control characters made visible (values come from other devices, and
 * an escape sequence must not reach the terminal).
 */
export function showValue(v: unknown): string {
  // The API gives a reading as the object it is; decodeReading checks its wire form.
  const r = decodeReading(v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
  if (r) return printable(r.ok ? `${r.value}${r.unit === '' ? '' : ` ${r.unit}`}` : `error: ${r.error}`);
  return printable(rawValue(v));
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `s` with control characters (ESC, BEL, CR, newlines...) shown as \xNN / \n escapes. */
export function printable(s: string, opts: { keepLines?: boolean } = {}): string {
  return s.replace(opts.keepLines ? CONTROL_BUT_LINES : CONTROL, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Words of `text` in lines of at most `width` columns, each after `indent`. */
export function wrap(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && textWidth(indent + line + ' ' + word) > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

/** Help text lines fit this (one column spare for terminals that wrap at the last one). */
export const HELP_WIDTH = 79;

/** A paragraph of help, wrapped to HELP_WIDTH. */
export function para(text: string, indent = ''): string {
  return wrap(text, HELP_WIDTH, indent);
}

/** Options and what they do, the descriptions wrapped under each other. */
export function optionLines(options: readonly (readonly [string, string])[]): string {
  const at = 20;
  return options.map(([flag, what]) => `  ${flag.padEnd(at - 3)} ${wrap(what, HELP_WIDTH, ' '.repeat(at)).slice(at)}`).join('\n');
}

/** The options every command that talks to the local node takes, for its --help. */
export const TARGET_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['--state-dir DIR', "the node's state directory (default from the config)"],
  ['--config FILE', "the node's config file"],
  ['--fleet-config FILE', 'the fleet-wide file, if the node was started with one'],
  ['--socket PATH', 'the API socket (default: murmur.sock in the state dir), or the loopback HOST:PORT of api.tcp (with the token from api.tokenFile)'],
  ['--json', 'machine-readable output'],
  ['--help', 'this help'],
];
export const TARGET_OPTIONS_HELP = optionLines(TARGET_OPTIONS);

/**
 * A key or device id as a path in the API: each "/"-separated segment percent-encoded. Empty,
 * "." and ".." segments are refused here, as the API refuses them: they would name another key.
 */
export function apiPath(key: string): string {
  const segs = key.split('/');
  if (segs.some((x) => x === '' || x === '.' || x === '..')) throw new CliError(`key "${key}": empty, "." and ".." segments are not allowed`);
  return segs.map(encodeURIComponent).join('/');
}

/**
 * The CLI's exit codes: 0 done; 1 the node refused or failed (its message is printed);
 * 2 usage (unknown option, missing argument); 3 the local node is not running (or went away);
 * 4 not found (no such key, device, sensor key or fleet key); 78 the config file is wrong (EX_CONFIG).
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, notRunning: 3, notFound: 4, config: 78 } as const;
