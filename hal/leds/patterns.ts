// What the status LED says, and how it says it. A person walking past a rack reads these, so
// each status has its own rhythm, and the table in the README is generated from the same
// descriptions.
//
// Rules every pattern keeps (tested in test/hal/leds/patterns.test.ts):
// - It changes level at least every MAX_HOLD_MS. An LED that holds one level for longer than
//   that means murmur is not running or is hung (the player is app-driven, so a hung murmur
//   freezes the LED, and a killed one leaves it where it was).
// - It is not a Raspberry Pi firmware flash code: those are groups of 2 to 10 flashes (some
//   long, some short, each around a quarter to half a second) separated by a pause. murmur's
//   patterns are one event per cycle, or a flicker faster than any firmware code.
// - It is not the kernel's heartbeat trigger (a double blink), which only proves the kernel runs.

export type LedStatus = 'booting' | 'searching' | 'isolated' | 'healthy' | 'degraded' | 'error' | 'identify';

/** One step: the level and how long it is held, in ms. A pattern repeats its steps forever. */
export type Step = readonly [on: boolean, ms: number];

export interface Pattern {
  readonly status: LedStatus;
  readonly steps: readonly Step[];
  /** How it looks, for people. */
  readonly looks: string;
  /** What it means and what to do. */
  readonly means: string;
}

export const MAX_HOLD_MS = 3000;

const flicker = (n: number, onMs: number, offMs: number): Step[] => Array.from({ length: n }, (): Step[] => [[true, onMs], [false, offMs]]).flat();

export const PATTERNS: Readonly<Record<LedStatus, Pattern>> = {
  booting: {
    status: 'booting',
    steps: [
      [true, 250],
      [false, 250],
    ],
    looks: 'even blink, twice a second',
    means: 'murmur is starting: identity, keys and sockets (a few seconds)',
  },
  searching: {
    status: 'searching',
    steps: [
      [true, 1000],
      [false, 1000],
    ],
    looks: 'slow even blink, 1 s on, 1 s off',
    means: 'running, but no other device heard yet: check the network, the fleet key and network.seeds',
  },
  isolated: {
    status: 'isolated',
    steps: [
      [true, 1750],
      [false, 250],
    ],
    looks: 'mostly on, with a short dark wink every 2 s',
    means: 'had peers, but none answers now: cable, Wi-Fi or switch; the rest of the fleet sees this device as suspect',
  },
  healthy: {
    status: 'healthy',
    steps: [
      [true, 100],
      [false, 2900],
    ],
    looks: 'one short blip every 3 s',
    means: 'in the fleet, every known peer alive, low loss',
  },
  degraded: {
    status: 'degraded',
    steps: [
      [true, 100],
      [false, 650],
    ],
    looks: 'short blips, four every 3 s',
    means: 'in the fleet, but peers are suspect, a partition is suspected, loss is high or this device is slow (the why is in /v1/status)',
  },
  error: {
    status: 'error',
    steps: [
      [true, 80],
      [false, 80],
    ],
    looks: 'fast steady flicker',
    means: 'needs a person: a hardware or config problem, or datagrams under a fleet key this device lacks (see the log)',
  },
  identify: {
    status: 'identify',
    steps: [...flicker(12, 40, 40), [true, 1000]],
    looks: 'a one-second strobe, then one second on, repeating',
    means: 'someone ran "murmur identify" for this device: this is the one',
  },
};

/** The pattern as a strip of characters, one per `slotMs`, for the log, the API and the simulated LED. */
export function renderPattern(p: Pattern, slotMs = 100): string {
  let out = '';
  for (const [on, ms] of p.steps) out += (on ? '█' : '▁').repeat(Math.max(1, Math.round(ms / slotMs)));
  return out;
}

/** Length of one cycle, in ms. */
export function cycleMs(p: Pattern): number {
  return p.steps.reduce((s, [, ms]) => s + ms, 0);
}
