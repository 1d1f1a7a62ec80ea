// `murmur leds test`: play the status LED patterns (or one) so a person can check the LED works
// and learn what each pattern looks like; then the LED goes back to the real status.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { duration, fields, terminal, TARGET_OPTIONS_HELP, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';
import { PATTERNS, type LedStatus } from '../../hal/leds/patterns.js';

const NAMES = Object.keys(PATTERNS) as LedStatus[];
const MAX_SECONDS = 60;

export const ledsHelp = `usage: murmur leds test [--pattern NAME] [--seconds N] [options]

${para(`Plays every status LED pattern in turn (or only NAME), N seconds each (default 3), on this device's status LEDs; then they show the real status again. Patterns: ${NAMES.join(', ')} (see README "What the LED says").`)}

options:
${optionLines([
  ['--pattern NAME', 'play only this pattern'],
  ['--seconds N', `how long each pattern plays (above 0, at most ${MAX_SECONDS}; default 3)`],
  ...TARGET_OPTIONS,
])}`;

export async function ledsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('leds', args, { valued: ['--pattern', '--seconds'] }, ledsHelp, io);
  const [sub, ...extra] = p.positional;
  if (sub !== 'test') throw new CliError(`murmur leds: ${sub === undefined ? 'expected a subcommand' : `unknown subcommand "${sub}"`}\n\n${ledsHelp}`);
  if (extra.length > 0) throw new CliError(`murmur leds test: unexpected argument "${extra[0]!}" (use --pattern NAME)\n\n${ledsHelp}`);
  const pattern = p.options.get('--pattern');
  if (typeof pattern === 'string' && !(NAMES as string[]).includes(pattern)) throw new CliError(`murmur leds test: --pattern: expected one of ${NAMES.join(', ')}, got "${pattern}"`);
  let seconds: number | undefined;
  const s = p.options.get('--seconds');
  if (typeof s === 'string') {
    seconds = Number(s);
    if (s.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_SECONDS) throw new CliError(`murmur leds test: --seconds: expected a number above 0 and at most ${MAX_SECONDS}, got "${s}"`);
  }
  const body = check(
    await apiRequest(p.target().socket, 'POST', '/v1/leds/test', { ...(typeof pattern === 'string' ? { pattern } : {}), ...(seconds !== undefined ? { seconds } : {}) }),
    'leds test',
  );
  if (p.json) {
    io.out(jsonText(body));
    return 0;
  }
  const playing = Array.isArray(body.playing) ? (body.playing as unknown[]).map(String) : [];
  const each = typeof body.seconds === 'number' ? body.seconds : Number(body.seconds);
  const total = duration(each * 1000 * playing.length);
  const head = playing.length === 1 ? `playing ${playing[0]!} for ${duration(each * 1000)}` : `playing ${playing.length} patterns, ${duration(each * 1000)} each (${total} in all)`;
  io.out(`${head}, then back to the real status:`);
  const t = terminal(io);
  io.out(fields(playing.map((n) => [`  ${n}`, n in PATTERNS ? PATTERNS[n as LedStatus].looks : '']), { width: t.width }));
  return 0;
}
