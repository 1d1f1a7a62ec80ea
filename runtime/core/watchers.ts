// The members this node beats to directly between group heartbeats: its watchers. With
// multicast every node hears every group heartbeat, so the group interval grows with the fleet
// to keep what a device receives flat (runtime/core/timing.ts). Detection would slow with it;
// instead each node beats every heartbeatMinMs to a few watchers, and a watcher judges its
// silence at that interval, probes and accuses as anyone does on silence. The others take its
// accusation (runtime/core/accusations.ts), probe for themselves, and the suspicion needs
// independent sources as always: no device is declared dead on one watcher's word.
//
// Watchers are the next few members after this node on a ring ordered by a hash of their ids,
// as Rapid chooses monitors: spread evenly, so each node watches about as many members as
// watch it, and stable while membership is. A receiver needs no ring of its own: it watches
// whoever beats to it (Member.watchedUntil), so differing views never leave a member watched
// by nobody who expects it. When the ring moves (a member joins between us), the watchers it
// replaced get farewell beats (numbered 0) for a few beat intervals: a watcher that hears one
// stops watching, so that it never takes the move for a death (if every farewell is lost, it
// probes once, and is answered).

import { isPresent, type Member } from './member.js';
import type { NodeState } from './node-state.js';

/** FNV-1a over the id's UTF-16 code units, finished with a multiply-xorshift: an even spread on the ring. */
export function ringHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Watchers {
  readonly #count: number;
  readonly #farewellMs: number;
  readonly #hashes = new Map<string, number>();
  /** The view hash the ring was read for: membership changes change it. */
  #view = -1;
  #ring: Member[] = [];
  /** Members that were watchers until the ring moved, and until when they get farewell beats. */
  readonly #former = new Map<Member, number>();

  constructor(count: number, farewellMs: number) {
    this.#count = count;
    this.#farewellMs = farewellMs;
  }

  /** This node's watchers (`ring`): the `count` present members that follow it on the ring; and the former ones still to be told (`former`). */
  of(s: NodeState, now: number): { readonly ring: readonly Member[]; readonly former: Iterable<Member> } {
    if (s.view !== this.#view || !this.#ring.every(isPresent)) {
      this.#view = s.view;
      const ring = this.#read(s);
      for (const m of this.#ring) if (!ring.includes(m)) this.#former.set(m, now + this.#farewellMs);
      for (const m of ring) this.#former.delete(m);
      this.#ring = ring;
    }
    for (const [m, until] of this.#former) if (until <= now || !isPresent(m)) this.#former.delete(m);
    return { ring: this.#ring, former: this.#former.keys() };
  }

  #read(s: NodeState): Member[] {
    const self = this.#hash(s.self.id);
    const ranked: { m: Member; d: number }[] = [];
    for (const m of s.members.values()) if (isPresent(m)) ranked.push({ m, d: (this.#hash(m.id) - self) >>> 0 });
    ranked.sort((a, b) => a.d - b.d || (a.m.id < b.m.id ? -1 : 1));
    return ranked.slice(0, this.#count).map((r) => r.m);
  }

  #hash(id: string): number {
    let h = this.#hashes.get(id);
    if (h === undefined) {
      if (this.#hashes.size >= 4096) this.#hashes.clear();
      this.#hashes.set(id, (h = ringHash(id)));
    }
    return h;
  }
}
