// Waiting and rounding shared by the real-socket benchmarks (bench:fleet, bench:device).

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `pollMs` until it holds (true) or `deadlineMs` passes (false). */
export async function waitFor(cond: () => boolean, deadlineMs: number, pollMs = 5): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(pollMs);
  }
  return true;
}

/** One decimal place, as every benchmark prints its figures. */
export const round = (x: number): number => Math.round(x * 10) / 10;
