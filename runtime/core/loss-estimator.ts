// Measures how much of what peers multicast actually reaches this node, from gaps in their
// heartbeat sequence numbers. On Wi-Fi, loss is mostly a property of the receiver's own link,
// so one estimate over all peers is steadier than one per peer and reacts when we degrade.

/** Until enough heartbeats have been seen, assume a lossy link rather than a perfect one. */
const PRIOR_LOSS = 0.2;
const MIN_SAMPLES = 20;

export class LossEstimator {
  #expected = 0;
  #received = 0;

  /** A heartbeat arrived `gap` sequence numbers after the last one seen from that peer (gap 1 = none lost). */
  record(gap: number): void {
    if (gap < 1) return;
    // A huge gap is a peer that paused (or our own long outage), not loss to extrapolate from.
    this.#expected += Math.min(gap, 32);
    this.#received += 1;
  }

  /** Forget slowly, so the estimate follows a link that gets better or worse. */
  decay(factor: number): void {
    this.#expected *= factor;
    this.#received *= factor;
  }

  get loss(): number {
    if (this.#expected < MIN_SAMPLES) return PRIOR_LOSS;
    return Math.max(0, 1 - this.#received / this.#expected);
  }
}
