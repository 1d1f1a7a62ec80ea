// `murmur hooks test EVENT`: run the configured hooks for one made-up event, on the running
// node (as its user, with its environment), and print what each did.

import { apiRequest, check } from './api-client.js';
import { escapeControl, jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { parseArgs } from './target-args.js';
import { HOOK_EVENTS } from '../config/hooks-config.js';

export const hooksHelp = `usage: murmur hooks test EVENT [--member ID] [--key KEY] [--value V] [options]

Runs every hook in the node's config that names EVENT, once, now, with a
made-up event, and prints each hook's exit and output. EVENT is one of
${HOOK_EVENTS.slice(0, 3).join(', ')},
${HOOK_EVENTS.slice(3).join(', ')}.
The node runs them (as its user, with the event on stdin and in MURMUR_*
variables), as it would for a real event, without waiting for coalescing.

options:
  --member ID       the member the event names (default: this device)
  --key KEY         for key-changed: the key (hooks whose prefix matches run)
  --value V         for key-changed: the new value (a string)
  --state-dir DIR   the node's state directory (default from the config)
  --config FILE     the node's config file
  --socket PATH     the API socket (default: api.socket in the state directory)
  --json            machine-readable output`;

/** The longest a hook may run (hooks.commands[].timeoutS), and then some for the kill. */
const ANSWER_WITHIN_MS = 3_700_000;

export async function hooksCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('hooks', args, { valued: ['--member', '--key', '--value'] }, hooksHelp, io);
  const [sub, event, ...extra] = p.positional;
  if (sub !== 'test') throw new CliError(`murmur hooks: expected "test EVENT", got ${sub === undefined ? 'nothing' : `"${sub}"`}\n\n${hooksHelp}`);
  if (event === undefined || extra.length > 0) throw new CliError(`murmur hooks test: expected one EVENT (${HOOK_EVENTS.join(', ')})\n\n${hooksHelp}`);
  if (!(HOOK_EVENTS as readonly string[]).includes(event)) throw new CliError(`murmur hooks test: unknown event "${event}"; expected one of ${HOOK_EVENTS.join(', ')}`);
  const opt = (k: string): string | undefined => {
    const v = p.options.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const body = { event, member: opt('--member'), key: opt('--key'), value: opt('--value') };
  const r = check(await apiRequest(p.target().socket, 'POST', '/v1/hooks/test', body, ANSWER_WITHIN_MS), 'hooks test');
  const ran = (r.ran ?? []) as Array<{ hook: string; code: number | null; signal: string | null; timedOut: boolean; error?: string; durationMs: number; output: string[] }>;
  if (p.json) {
    io.out(jsonText(r));
  } else if (ran.length === 0) {
    io.out(`no hook names ${event}${body.key !== undefined ? ` with a prefix of "${body.key}"` : ''}`);
  } else {
    for (const h of ran) {
      const how = h.error !== undefined ? `could not start: ${escapeControl(h.error)}` : h.timedOut ? 'timed out (process group killed)' : h.code === 0 ? 'exit 0' : h.code !== null ? `exit ${h.code}` : `killed by ${h.signal}`;
      io.out(`${h.hook}: ${how} in ${h.durationMs} ms`);
      // A hook's output is any bytes: shown as text, never as terminal escapes.
      for (const line of h.output) io.out(`  ${escapeControl(line)}`);
    }
  }
  return ran.every((h) => h.code === 0) ? 0 : 1;
}
