// The `hooks` section of the device config: commands run when the membership changes or a key
// under a prefix changes. Every error names the field path (hooks.commands[1].timeoutS).

import { ConfigError, fieldRecorder } from './config-error.js';
import { unknownField } from './layers.js';

/** The events a hook may name. A key event needs `prefix`. */
export const HOOK_EVENTS = ['member-joined', 'member-failed', 'member-left', 'member-unreliable', 'member-alive-again', 'key-changed'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

export interface HookConfig {
  readonly name: string;
  readonly events: readonly HookEvent[];
  /** Keys under this prefix fire `key-changed`; required when the hook names that event. */
  readonly prefix: string | undefined;
  /** argv (no shell), or one command line for `sh -c` when `shell` is true. */
  readonly command: readonly string[];
  readonly shell: boolean;
  readonly timeoutS: number;
  /** Events arriving within this window of the first go to one run. */
  readonly coalesceMs: number;
}

export interface HooksConfig {
  /** Hook processes running at once, across every hook. */
  readonly concurrency: number;
  readonly commands: readonly HookConfig[];
}

type Obj = Record<string, unknown>;
type Fail = (path: string, expected: string, got: unknown) => never;
type Bad = (path: string, message: string) => never;

const NAME = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const FIELDS = ['name', 'on', 'prefix', 'command', 'shell', 'timeoutS', 'coalesceMs'];

export function validateHooks(h: Obj, fail: Fail, bad: Bad, record: (e: Error) => void): HooksConfig {
  const field = fieldRecorder(record);
  const concurrency = field(() => (Number.isInteger(h.concurrency) && (h.concurrency as number) >= 1 && (h.concurrency as number) <= 16 ? (h.concurrency as number) : fail('hooks.concurrency', 'an integer 1-16', h.concurrency)), 1);
  const list = field(() => (Array.isArray(h.commands) ? (h.commands as unknown[]) : fail('hooks.commands', 'a list of hooks', h.commands)), []);
  const commands = list.map((x, i) => field<HookConfig | undefined>(() => hook(x, `hooks.commands[${i}]`, fail, bad), undefined));
  const seen = new Map<string, number>();
  commands.forEach((c, i) => {
    if (!c) return;
    const j = seen.get(c.name);
    if (j !== undefined) field(() => fail(`hooks.commands[${i}].name`, `a name not already used by hooks.commands[${j}]`, c.name), undefined);
    seen.set(c.name, i);
  });
  return { concurrency, commands: commands.filter((c): c is HookConfig => c !== undefined) };
}

function hook(x: unknown, path: string, fail: Fail, bad: Bad): HookConfig {
  if (!x || typeof x !== 'object' || Array.isArray(x)) fail(path, 'a map of fields (name, on, command...)', x);
  const o = x as Obj;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(`${path}.${k}`, unknownField(k, FIELDS));
  if (typeof o.name !== 'string' || !NAME.test(o.name)) fail(`${path}.name`, 'a short lower-case name (letters, digits, "-", "_", "."); it tags the hook\'s log lines', o.name);
  const on = typeof o.on === 'string' ? [o.on] : o.on;
  if (!Array.isArray(on) || on.length === 0 || !on.every((e) => (HOOK_EVENTS as readonly unknown[]).includes(e))) {
    fail(`${path}.on`, `an event or a list of events from ${HOOK_EVENTS.join(', ')}`, o.on);
  }
  const events = [...new Set(on as HookEvent[])];
  let prefix: string | undefined;
  if (o.prefix !== undefined && o.prefix !== null) {
    if (typeof o.prefix !== 'string') fail(`${path}.prefix`, 'a key prefix such as "config/" ("" for every key)', o.prefix);
    if ((o.prefix as string).startsWith('_murmur/')) bad(`${path}.prefix`, '"_murmur/" keys belong to murmur itself and fire no hook');
    prefix = o.prefix as string;
  }
  if (events.includes('key-changed') && prefix === undefined) fail(`${path}.prefix`, 'a key prefix for the key-changed event ("" for every key)', o.prefix);
  if (prefix !== undefined && !events.includes('key-changed')) bad(`${path}.prefix`, 'only used with the key-changed event, which on does not name');
  const shell = o.shell ?? false;
  if (typeof shell !== 'boolean') fail(`${path}.shell`, 'true or false', shell);
  let command: string[];
  if (shell) {
    if (typeof o.command !== 'string' || o.command.trim() === '') fail(`${path}.command`, 'a command line for sh -c (shell is true)', o.command);
    command = [o.command as string];
  } else {
    const c = o.command;
    if (typeof c === 'string') bad(`${path}.command`, 'expected a list: the program and its arguments, run without a shell (["/usr/local/bin/notify", "--urgent"]); set shell: true for a command line');
    if (!Array.isArray(c) || c.length === 0 || !c.every((a) => typeof a === 'string') || c[0] === '') fail(`${path}.command`, 'a list: the program and its arguments', c);
    command = c as string[];
  }
  const int = (k: string, lo: number, hi: number, dflt: number): number => {
    const v = o[k] ?? dflt;
    return Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi ? (v as number) : fail(`${path}.${k}`, `an integer ${lo}-${hi}`, v);
  };
  return {
    name: o.name as string,
    events,
    prefix,
    command,
    shell: shell as boolean,
    timeoutS: int('timeoutS', 1, 3600, 30),
    coalesceMs: int('coalesceMs', 0, 60_000, 1000),
  };
}
