// The core's randomness on a real device: from the OS's CSPRNG, drawn in blocks so the
// per-call cost stays low (the core asks for a number per heartbeat, probe and jitter).

import { randomFillSync } from 'node:crypto';
import type { Rng } from '../core/effects.js';

export class CryptoRng implements Rng {
  readonly #buf = new Uint32Array(256);
  #i = 256;

  next(): number {
    if (this.#i >= this.#buf.length) {
      randomFillSync(this.#buf);
      this.#i = 0;
    }
    return this.#buf[this.#i++]! / 4294967296;
  }
}
