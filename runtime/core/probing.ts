// SWIM probing for one node: direct pings, indirect pings through helpers (ping-req), relaying
// for others, and, without multicast, the round-robin schedule. The prober owns the probes in
// flight; what a probe's outcome means for the member (alive again, restarted, accused) is the
// node's business, reported back through ProbeHost.

import type { Awareness } from './awareness.js';
import type { Effects, Rng } from './effects.js';
import { isPresent, type Member } from './member.js';
import { MsgType, type Ack, type Address, type NodeId, type NodeRef, type PingReq } from './messages.js';
import type { Profile } from './profiles.js';
import type { NodeStats } from './stats.js';
import { probeFanout, probeRoundDelayMs, probeTimeoutMs } from './timing.js';

export interface ProbeHost {
  readonly self: NodeRef;
  readonly profile: Profile;
  readonly stats: NodeStats;
  readonly awareness: Awareness;
  readonly rng: Rng;
  /** Loss this node measures on the fleet's heartbeats (0 when it measures none): a lossier fleet gets bigger probes. */
  loss(): number;
  member(id: NodeId): Member | undefined;
  members(): Iterable<Member>;
  randomPresent(count: number, exclude?: NodeId): Member[];
  /** Our own probe of `m` was answered with `ack`. */
  answered(m: Member, ack: Ack, now: number, fx: Effects): void;
  /** Our own probe of `m` failed, direct and indirect. */
  failed(m: Member, now: number, fx: Effects): void;
}

interface Probe {
  readonly targetId: NodeId;
  readonly targetGen: number;
  stage: 1 | 2;
  /** When its current stage times out. */
  due: number;
  /** Set when this probe is run on behalf of another node's PingReq. */
  readonly relayFor?: { readonly addr: Address; readonly probe: number };
}

export class Prober {
  #seq = 0;
  readonly #probes = new Map<number, Probe>();
  /** Without multicast: the round-robin order, reshuffled each pass, and the next round's time. */
  #order: NodeId[] = [];
  #nextRound = 0;

  constructor(private readonly host: ProbeHost) {}

  get nextRoundAt(): number {
    return this.#nextRound;
  }

  start(m: Member, now: number, fx: Effects): void {
    const h = this.host;
    const probe = ++this.#seq;
    const wait = probeTimeoutMs(h.profile, 1, h.awareness.score);
    this.#probes.set(probe, { targetId: m.id, targetGen: m.gen, stage: 1, due: now + wait });
    m.probe = probe;
    m.lastProbeAt = now;
    fx.send(m.addr, [{ type: MsgType.Ping, from: h.self, target: { id: m.id, gen: m.gen }, probe }]);
    fx.setTimer(now + wait, { kind: 'probe-timeout', probe });
    h.stats.count('probes-started');
  }

  /** Ping `r.target` on behalf of the node at `from`, and pass its answer back. */
  relay(r: PingReq, from: Address, now: number, fx: Effects): void {
    const h = this.host;
    const probe = ++this.#seq;
    this.#probes.set(probe, { targetId: r.target.id, targetGen: r.target.gen, stage: 2, due: now + h.profile.probeTimeoutMs, relayFor: { addr: from, probe: r.probe } });
    fx.send(r.targetAddr, [{ type: MsgType.Ping, from: h.self, target: r.target, probe }]);
    fx.setTimer(now + h.profile.probeTimeoutMs, { kind: 'probe-timeout', probe });
    h.stats.count('probes-relayed');
  }

  onAck(a: Ack, now: number, fx: Effects): void {
    const h = this.host;
    const probe = this.#probes.get(a.probe);
    if (!probe || probe.targetId !== a.from.id) return;
    this.#probes.delete(a.probe);
    if (probe.relayFor) {
      fx.send(probe.relayFor.addr, [{ type: MsgType.Ack, from: a.from, probe: probe.relayFor.probe, inc: a.inc }]);
      return;
    }
    const m = h.member(a.from.id);
    if (!m || a.from.gen < m.gen) return;
    if (m.probe === a.probe) m.probe = undefined;
    h.awareness.apply(-1);
    h.answered(m, a, now, fx);
  }

  /** When probe `probe`'s current stage times out; undefined once it is over. */
  dueOf(probe: number): number | undefined {
    return this.#probes.get(probe)?.due;
  }

  onTimeout(probe: number, now: number, fx: Effects): void {
    const h = this.host;
    const p = this.#probes.get(probe);
    if (!p) return;
    const m = h.member(p.targetId);
    if (p.relayFor || !m || m.gen !== p.targetGen || m.probe !== probe || !isPresent(m)) {
      this.#probes.delete(probe);
      if (m && m.probe === probe) m.probe = undefined;
      return;
    }
    const target = { id: m.id, gen: m.gen };
    if (p.stage === 1) {
      // Direct ping unanswered: try again, and ask others to try along paths that avoid our link.
      p.stage = 2;
      const fanout = probeFanout(h.profile, h.loss());
      for (let i = 1; i < fanout.pings; i++) {
        fx.send(m.addr, [{ type: MsgType.Ping, from: h.self, target, probe }]);
      }
      for (const helper of h.randomPresent(fanout.helpers, m.id)) {
        fx.send(helper.addr, [{ type: MsgType.PingReq, from: h.self, target, targetAddr: m.addr, probe }]);
      }
      const wait = probeTimeoutMs(h.profile, 2, h.awareness.score);
      p.due = now + wait;
      fx.setTimer(now + wait, { kind: 'probe-timeout', probe });
      return;
    }
    this.#probes.delete(probe);
    m.probe = undefined;
    h.stats.count('probes-failed');
    h.failed(m, now, fx);
  }

  /**
   * Without multicast, heartbeat silence says little (a member's heartbeats reach us at random,
   * first- or second-hand), so liveness is SWIM's: probe one member per interval, round-robin
   * over a shuffled order, so every member is probed within a bounded time.
   */
  round(now: number, fx: Effects): void {
    const h = this.host;
    this.#nextRound = now + probeRoundDelayMs(h.profile, h.rng.next());
    for (let tries = 0; tries < 2; tries++) {
      while (this.#order.length > 0) {
        const m = h.member(this.#order.pop()!);
        if (!m || !isPresent(m) || m.probe !== undefined || m.suspicion?.sources.has(h.self.id)) continue;
        this.start(m, now, fx);
        return;
      }
      this.#order = [...h.members()].filter(isPresent).map((m) => m.id);
      for (let i = this.#order.length - 1; i > 0; i--) {
        const j = Math.floor(h.rng.next() * (i + 1));
        [this.#order[i], this.#order[j]] = [this.#order[j]!, this.#order[i]!];
      }
    }
  }
}
