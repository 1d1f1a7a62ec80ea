// The `queries` section of the device config: fleet queries this device answers by running a
// command (README "Fleet queries"). The built-in queries need no config. Every error names the
// field path (queries.disk-free.command), as the rest of the config does.

import { unknownField } from './layers.js';

export interface QueryCommand {
  /** Program and arguments, run without a shell; the query's payload comes on stdin. */
  readonly command: readonly string[];
  /** The program is killed (with its process group) after this long and the answer is an error. */
  readonly timeoutMs: number;
}

/** Answered by murmur itself; a configured query cannot take these names. */
export const BUILTIN_QUERIES = ['version', 'uptime', 'sensors', 'config-hash'] as const;
/** A query's command may run this long at most: the asker waits 3 s by default. */
export const MAX_QUERY_COMMAND_MS = 30_000;
const DEFAULT_QUERY_COMMAND_MS = 2_000;
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

type Obj = Record<string, unknown>;
type Fail = (path: string, expected: string, got: unknown) => never;
type Bad = (path: string, message: string) => never;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The configured queries by name; `record` takes each error and the check goes on with the next query. */
export function validateQueries(v: unknown, fail: Fail, bad: Bad, record: (e: Error) => void): Readonly<Record<string, QueryCommand>> {
  // No prototype: a query named "constructor" is a name like any other.
  const out = Object.create(null) as Record<string, QueryCommand>;
  if (v === undefined || v === null) return out;
  if (!isObj(v)) fail('queries', 'a map from query names to { command: [program, args...], timeoutMs? }', v);
  for (const [name, q] of Object.entries(v)) {
    const path = `queries.${name}`;
    try {
      if (!NAME.test(name)) fail(path, 'a query name of up to 64 lower-case letters, digits, "-", "_" or "."', name);
      if ((BUILTIN_QUERIES as readonly string[]).includes(name)) bad(path, `"${name}" is a built-in query (${BUILTIN_QUERIES.join(', ')}); choose another name`);
      if (!isObj(q)) fail(path, 'a map with command and, optionally, timeoutMs', q);
      for (const k of Object.keys(q)) if (k !== 'command' && k !== 'timeoutMs') bad(`${path}.${k}`, unknownField(k, ['command', 'timeoutMs']));
      const cmd = q.command;
      if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((x) => typeof x === 'string' && x !== '')) {
        fail(`${path}.command`, 'a non-empty list of strings: the program and its arguments (no shell runs it)', cmd);
      }
      const t = q.timeoutMs ?? DEFAULT_QUERY_COMMAND_MS;
      if (!Number.isInteger(t) || (t as number) < 100 || (t as number) > MAX_QUERY_COMMAND_MS) fail(`${path}.timeoutMs`, `an integer 100-${MAX_QUERY_COMMAND_MS}`, t);
      out[name] = { command: cmd as string[], timeoutMs: t as number };
    } catch (e) {
      record(e as Error);
    }
  }
  return out;
}
