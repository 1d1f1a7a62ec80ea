// An LED on a header pin through libgpiod's command-line tools, the supported way to drive
// GPIO from user space, since sysfs GPIO is deprecated. v1 and v2 differ in syntax and in
// what they can do:
//
// - v2 `gpioset --interactive` holds the line and takes `set <line>=<value>` commands on stdin,
//   so a blink is a line written to a pipe, not a process spawned. If the process dies (line
//   taken by someone else, chip gone) the error is reported and a later set restarts it, at
//   most once per restart interval so a line that stays busy does not become a spawn loop.
// - v1 has no interactive mode: each change runs `gpioset <chip> <line>=<v>`, which sets the
//   level and exits. At most one runs at a time; changes asked for meanwhile collapse into
//   the latest level, so a fast pattern on a slow Pi Zero lags by at most one command.
// - v2 built without libedit has no --interactive either; it gets v1's treatment with
//   `--toggle 0` (set, then exit).
//
// Active-low is applied here (level = on XOR activeLow) so every mode writes physical levels.

import type { CommandRunner, CommandSession } from '../command.js';
import { parseGpiodetect, type GpioChip } from './gpio-chip.js';
import type { LedDriver, LedErrorSink } from './led.js';

export interface GpiodTools {
  /** libgpiod major version; the command syntax depends on it. */
  readonly version: 1 | 2;
  /** As printed, "v2.1" or "v1.6.3". */
  readonly versionText: string;
  /** v2's gpioset was built with --interactive (it needs libedit). Always false for v1. */
  readonly interactive: boolean;
}

export type GpiodProbe =
  | { readonly ok: true; readonly tools: GpiodTools; readonly chips: readonly GpioChip[] }
  | { readonly ok: false; readonly reason: string };

/** Reads "gpioset (libgpiod) v1.6.3" / "gpioset (libgpiod) v2.1"; undefined for anything else. */
export function parseGpiodVersion(text: string): { major: number; text: string } | undefined {
  const m = /\(libgpiod\)\s*(v?(\d+)\.\d+(?:\.\d+)?)/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[2]), text: m[1]!.startsWith('v') ? m[1]! : `v${m[1]!}` };
}

/** Which libgpiod tools this machine has, and the chips gpiodetect lists. Never throws. */
export async function probeGpiod(commands: CommandRunner): Promise<GpiodProbe> {
  const version = await commands.run('gpioset', ['--version']);
  if (version.code === 127) return { ok: false, reason: 'gpioset not installed' };
  if (version.code !== 0) return { ok: false, reason: `gpioset --version failed (code ${version.code}): ${oneLine(version.stderr)}` };
  const parsed = parseGpiodVersion(version.stdout + version.stderr);
  if (!parsed || (parsed.major !== 1 && parsed.major !== 2)) {
    return { ok: false, reason: `gpioset --version printed "${oneLine(version.stdout)}", not libgpiod v1 or v2` };
  }
  let interactive = false;
  if (parsed.major === 2) {
    const help = await commands.run('gpioset', ['--help']);
    interactive = /--interactive\b/.test(help.stdout + help.stderr);
  }
  const detect = await commands.run('gpiodetect', []);
  if (detect.code === 127) return { ok: false, reason: 'gpiodetect not installed (gpioset is)' };
  if (detect.code !== 0) return { ok: false, reason: `gpiodetect failed (code ${detect.code}): ${oneLine(detect.stderr)}` };
  return {
    ok: true,
    tools: { version: parsed.major === 1 ? 1 : 2, versionText: parsed.text, interactive },
    chips: parseGpiodetect(detect.stdout),
  };
}

export interface GpiodLedOptions {
  readonly commands: CommandRunner;
  readonly tools: GpiodTools;
  readonly chip: GpioChip;
  /** Line offset on the chip (the BCM number on a Pi header). */
  readonly line: number;
  readonly activeLow?: boolean;
  readonly onError: LedErrorSink;
  /** For pacing restarts of a dead v2 session; milliseconds. */
  readonly clock?: () => number;
  /** Shortest time between two starts of the v2 session. Default 5 s. */
  readonly restartIntervalMs?: number;
}

/** Also the consumer gpioinfo shows for the line, so whoever finds it busy knows who holds it. */
const CONSUMER = 'murmur';
const DEFAULT_RESTART_INTERVAL_MS = 5000;

/** Starts driving the line with the LED off. Problems surface through onError, not a throw. */
export function openGpiodLed(options: GpiodLedOptions): LedDriver {
  return options.tools.version === 2 && options.tools.interactive ? new GpiodSessionLed(options) : new GpiodOneShotLed(options);
}

function describe(o: GpiodLedOptions): string {
  const mode = o.tools.version === 2 && !o.tools.interactive ? ', one gpioset per change' : '';
  const invert = o.activeLow ? ', active-low' : '';
  return `${o.chip.name} line ${o.line} (${o.chip.label}, libgpiod ${o.tools.versionText}${mode}${invert})`;
}

type Level = 0 | 1;

/** v2 with --interactive: one long-running gpioset fed `set` lines. */
class GpiodSessionLed implements LedDriver {
  readonly backend = 'gpiod';
  readonly description: string;
  readonly #o: GpiodLedOptions;
  readonly #clock: () => number;
  readonly #restartMs: number;
  #session: CommandSession | undefined;
  #startedAt = 0;
  #closed = false;

  constructor(options: GpiodLedOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => performance.now());
    this.#restartMs = options.restartIntervalMs ?? DEFAULT_RESTART_INTERVAL_MS;
    this.description = describe(options);
    this.#start(this.#level(false));
  }

  set(on: boolean): void {
    if (this.#closed) return;
    const level = this.#level(on);
    if (this.#session) {
      this.#session.write(`set ${this.#o.line}=${level}`);
      return;
    }
    const since = this.#clock() - this.#startedAt;
    // A clock that went backwards (wall time corrected after boot) must not block restarts.
    if (since >= this.#restartMs || since < 0) this.#start(level);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const s = this.#session;
    this.restoreSync();
    if (s) {
      await s.close();
      return;
    }
    // The session is dead; still leave the LED off.
    const args = ['--chip', this.#o.chip.name, '--consumer', CONSUMER, '--toggle', '0', `${this.#o.line}=${this.#level(false)}`];
    await runReporting(this.#o, args);
  }

  /**
   * LED off and gpioset told to exit, without waiting: for a process 'exit' handler. It must
   * be the `exit` command, not the end of stdin: gpioset's prompt loop treats EOF as an empty
   * line and spins on, still holding the line, so a crashed murmur would find it busy on restart
   * (outside systemd, whose cgroup kill ends it anyway).
   */
  restoreSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    s?.write(`set ${this.#o.line}=${this.#level(false)}`);
    s?.write('exit');
  }

  #start(level: Level): void {
    this.#startedAt = this.#clock();
    const { chip, line, commands } = this.#o;
    const s = commands.start('gpioset', ['--chip', chip.name, '--consumer', CONSUMER, '--interactive', `${line}=${level}`], { lastLine: 'exit' });
    this.#session = s;
    s.onExit((code, stderr) => {
      if (this.#session !== s) return;
      this.#session = undefined;
      if (this.#closed) return;
      const said = stderr ? `: ${oneLine(stderr)}` : '';
      this.#o.onError(
        new Error(`gpioset for ${chip.name} line ${line} exited (code ${code})${said}; restarting on a later change, at most every ${this.#restartMs} ms`),
      );
    });
  }

  #level(on: boolean): Level {
    return on !== (this.#o.activeLow ?? false) ? 1 : 0;
  }
}

/** v1, or v2 without --interactive: one gpioset per change, at most one in flight. */
class GpiodOneShotLed implements LedDriver {
  readonly backend = 'gpiod';
  readonly description: string;
  readonly #o: GpiodLedOptions;
  #desired: Level;
  /** What the last successful gpioset left on the line; undefined after a failure. */
  #applied: Level | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(options: GpiodLedOptions) {
    this.#o = options;
    this.description = describe(options);
    this.#desired = this.#level(false);
    this.#pump();
  }

  set(on: boolean): void {
    if (this.#closed) return;
    this.#desired = this.#level(on);
    this.#pump();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#inFlight) await this.#inFlight;
    await runReporting(this.#o, this.#args(this.#level(false)));
  }

  #pump(): void {
    if (this.#inFlight || this.#closed || this.#desired === this.#applied) return;
    const level = this.#desired;
    this.#inFlight = runReporting(this.#o, this.#args(level)).then((ok) => {
      this.#inFlight = undefined;
      this.#applied = ok ? level : undefined;
      // After a failure, retrying the same level at once would loop; the next set retries.
      if (!ok && this.#desired === level) return;
      this.#pump();
    });
  }

  #args(level: Level): string[] {
    const { tools, chip, line } = this.#o;
    // v1: `gpioset [-m exit] <chip> <offset>=<value>`; exit mode is the default.
    if (tools.version === 1) return [chip.name, `${line}=${level}`];
    // v2 without --interactive holds the line until killed unless told `--toggle 0`.
    return ['--chip', chip.name, '--consumer', CONSUMER, '--toggle', '0', `${line}=${level}`];
  }

  #level(on: boolean): Level {
    return on !== (this.#o.activeLow ?? false) ? 1 : 0;
  }
}

/** Runs gpioset; a failure goes to onError. Resolves whether it worked. */
async function runReporting(o: GpiodLedOptions, args: string[]): Promise<boolean> {
  try {
    const r = await o.commands.run('gpioset', args);
    if (r.code === 0) return true;
    o.onError(new Error(`gpioset ${args.join(' ')} failed (code ${r.code}): ${oneLine(r.stderr) || 'no message'}`));
  } catch (e) {
    o.onError(new Error(`gpioset ${args.join(' ')}: ${(e as Error).message}`));
  }
  return false;
}

function oneLine(text: string): string {
  return text.trim().split('\n').join(' / ');
}
