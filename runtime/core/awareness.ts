// Local health (Lifeguard §4.1, memberlist awareness.go). A node that is itself slow or losing
// packets sees everyone else as failing; raising its own timeouts keeps it from accusing healthy
// peers. The score rises on evidence of our own trouble and decays on evidence of health.

export class Awareness {
  #score = 0;
  constructor(readonly max: number) {}

  get score(): number {
    return this.#score;
  }

  /** Positive delta: we were suspected, or had to refute. Negative: a probe succeeded. */
  apply(delta: number): void {
    this.#score = Math.min(this.max, Math.max(0, this.#score + delta));
  }
}
