// `murmur identify [DEVICE]`: make a device's status LED strobe so a person can find it in a
// rack. The request travels as this device's own gossip key (runtime/status/identify.ts).

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { parseArgs } from './target-args.js';
import { DEFAULT_IDENTIFY_S, MAX_IDENTIFY_S } from '../status/identify.js';

export const identifyHelp = `usage: murmur identify [DEVICE] [--for SECONDS] [--off] [options]

Makes DEVICE's status LED play the identify pattern (a one-second strobe, then
one second on, repeating) for SECONDS (default ${DEFAULT_IDENTIFY_S}, at most ${MAX_IDENTIFY_S}), so a
person can find it in a rack. DEVICE is a member id as "murmur members" or the
API's /v1/members shows it; without one, this device. The request reaches
DEVICE through gossip within a few seconds; it ends on its own, or earlier with
--off (which stops only what this device asked for).

options:
  --for SECONDS     how long (default ${DEFAULT_IDENTIFY_S})
  --off             stop identifying DEVICE
  --state-dir DIR   the node's state directory (default from the config)
  --config FILE     the node's config file
  --socket PATH     the API socket (default: api.socket in the state directory)
  --json            machine-readable output`;

export async function identifyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('identify', args, { valued: ['--for'], flags: ['--off'] }, identifyHelp, io);
  if (p.positional.length > 1) throw new CliError(`murmur identify: one device at a time, got ${p.positional.join(' ')}\n\n${identifyHelp}`);
  const off = p.options.has('--off');
  let seconds: number | undefined;
  const forS = p.options.get('--for');
  if (typeof forS === 'string') {
    seconds = Number(forS);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_IDENTIFY_S) throw new CliError(`--for: expected whole seconds from 1 to ${MAX_IDENTIFY_S}, got ${forS}`);
  }
  const socket = p.target().socket;
  let device = p.positional[0];
  if (device === undefined) device = String(check(await apiRequest(socket, 'GET', '/v1/status'), 'identify').id);
  const body = check(await apiRequest(socket, 'POST', '/v1/identify', { target: device, ...(seconds !== undefined ? { seconds } : {}), off }), 'identify');
  if (p.json) io.out(jsonText(body));
  else if (off) io.out(`stopped identifying ${device}`);
  else io.out(`${device} is identifying for ${String(body.seconds)} s (its LED strobes, then stays on for a second, repeating)`);
  return 0;
}
