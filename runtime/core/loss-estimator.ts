// Measures how much of what peers multicast actually reaches this node, from gaps in their
// heartbeat sequence numbers. On Wi-Fi, loss is mostly a property of the receiver's own link,
// so one estimate over all peers is steadier than one per peer and reacts when we degrade.

import type { Profile } from './profiles.js';

export class LossEstimator {
  #expected = 0;
  #received = 0;
  readonly #prior: number;
  readonly #minSamples: number;
  readonly #maxGap: number;

  constructor(profile: Pick<Profile, 'lossPrior' | 'lossMinSamples' | 'lossMaxGap'>) {
    this.#prior = profile.lossPrior;
    this.#minSamples = profile.lossMinSamples;
    this.#maxGap = profile.lossMaxGap;
  }

  /** A heartbeat arrived `gap` sequence numbers after the last one seen from that peer (gap 1 = none lost). */
  record(gap: number): void {
    if (gap < 1) return;
    // Past lossMaxGap it is a pause, not loss (see the profile).
    this.#expected += Math.min(gap, this.#maxGap);
    this.#received += 1;
  }

  /** Forget slowly, so the estimate follows a link that gets better or worse. */
  decay(factor: number): void {
    this.#expected *= factor;
    this.#received *= factor;
  }

  get loss(): number {
    if (this.#expected < this.#minSamples) return this.#prior;
    return Math.max(0, 1 - this.#received / this.#expected);
  }
}
