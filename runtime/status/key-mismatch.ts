// A device flashed with the wrong fleet key hears its neighbours but can open none of their
// datagrams: it sits alone, counting "unknown-key" refusals. That is a misconfiguration a
// person must fix, so it shows as an error on the LED rather than as "searching". With peers
// alive the same refusals are outsiders or a rotation in progress, not this device's fault.

/** Refusals within the window that make it a mismatch rather than a stray datagram. */
const MIN_REFUSALS = 3;
const WINDOW_MS = 30_000;

export class KeyMismatchWatch {
  readonly #samples: Array<{ at: number; count: number }> = [];

  /** `refused`: the running count of datagrams under keys this device lacks. */
  update(now: number, refused: number, alivePeers: number): string | undefined {
    this.#samples.push({ at: now, count: refused });
    while (this.#samples.length > 1 && now - this.#samples[0]!.at > WINDOW_MS) this.#samples.shift();
    const recent = refused - this.#samples[0]!.count;
    if (alivePeers > 0 || recent < MIN_REFUSALS) return undefined;
    return `fleet key mismatch: ${recent} datagrams in the last ${WINDOW_MS / 1000} s were sealed under a key this device does not hold, and no peer is reachable (check security.fleetKeyFile, "murmur keys list")`;
  }
}
