// How heartbeats and news reach the fleet. A node that can use the multicast group sends each
// thing once to everyone, and detects failure from heartbeat silence. A node that cannot
// spreads everything epidemically through a few random peers; silence then says little, so
// liveness comes from SWIM probe rounds instead. The choice is made once, when the node is built.

import type { Effects } from './effects.js';
import { MULTICAST } from './effects.js';
import { queue } from './dissemination.js';
import { ownSilenceEnded } from './isolation.js';
import { isPresent, type Member } from './member.js';
import { memberIntervalMs, randomPresent } from './membership.js';
import type { Address, Heartbeat, Message } from './messages.js';
import { MulticastFallback } from './multicast-fallback.js';
import type { NodeState } from './node-state.js';
import type { Profile } from './profiles.js';
import { silenceFor } from './reliability.js';
import { silenceThresholdMs } from './timing.js';

export interface Spreading {
  /** Shortest suspicion timeout, however many sources agree. */
  readonly suspicionMinMs: number;
  /** Whether gaps in the heartbeat sequence received from a member count as lost datagrams. */
  readonly gapsAreLoss: boolean;
  /** A heartbeat of `m` arrived first-hand (its loss, sequence and status are handled elsewhere). */
  heardHeartbeat(s: NodeState, m: Member, hb: Heartbeat, now: number): void;
  /** The gap expected between news of `m`'s heartbeats, given the interval it should beat at. */
  expectedGapMs(m: Member, intervalMs: number): number;
  /** Send our heartbeat, with `news` that rides along. */
  sendHeartbeat(s: NodeState, news: readonly Message[], hb: Heartbeat, now: number, fx: Effects): void;
  /** Send one datagram of news. */
  flush(s: NodeState, msgs: readonly Message[], fx: Effects): void;
  /** A refuting heartbeat has gone out the usual way and to the accuser at `from`. */
  refuted(s: NodeState, hb: Heartbeat, from: Address, fx: Effects): void;
  /** Pass on news learnt from someone else. */
  relay(s: NodeState, subject: string, msg: Message, now: number, fx: Effects): void;
  /** An accusation of `m` was held back because we heard from it recently. */
  heldAccusation(s: NodeState, m: Member, now: number, fx: Effects): void;
  /** Whether an anti-entropy round with no peer of a different view picks a random one anyway. */
  syncsWhenViewsAgree(aeRound: number): boolean;
  /**
   * The sweep's look at a member still alive or suspect after any verdict; `k` intervals of
   * silence (silenceIntervals) start a probe. Returns when the member next needs a sweep: `now`
   * for the regular pace, Infinity for not before something else changes.
   */
  sweepMember(s: NodeState, m: Member, now: number, fx: Effects, k: number, ownIntervalMs: number): number;
  /** After the sweep has looked at every member. */
  endSweep(s: NodeState, now: number, fx: Effects): void;
}

/**
 * The silence after which a member is probed: its threshold, plus the jitter its next heartbeat
 * may carry (the last of the k heartbeats the threshold allows to be lost may come that much
 * late without being lost). The sweep runs at this moment, so without the allowance a heartbeat
 * still on its way would count as one more loss.
 */
export function probeSilenceMs(s: NodeState, thresholdMs: number, intervalMs: number): number {
  return thresholdMs + intervalMs * s.profile.heartbeatJitter;
}

export class MulticastSpreading implements Spreading {
  readonly suspicionMinMs: number;
  readonly gapsAreLoss = true;
  readonly #fullSyncEvery: number;
  readonly #fallback = new MulticastFallback();

  constructor(profile: Profile) {
    this.suspicionMinMs = profile.suspicionMinMs;
    this.#fullSyncEvery = profile.fullSyncEvery;
  }

  heardHeartbeat(s: NodeState, m: Member, hb: Heartbeat, now: number): void {
    this.#fallback.heard(s, m, hb, now);
  }

  expectedGapMs(_m: Member, intervalMs: number): number {
    return intervalMs;
  }

  sendHeartbeat(s: NodeState, news: readonly Message[], hb: Heartbeat, now: number, fx: Effects): void {
    const msgs = [...news, hb];
    fx.send(MULTICAST, msgs);
    const deaf = this.#fallback.refresh(s, now);
    if (this.#fallback.extras.length > 0) {
      const asking = [...news, { ...hb, unicastMe: true }];
      for (const m of this.#fallback.extras) fx.send(m.addr, deaf.has(m) ? asking : msgs);
    }
  }

  flush(_s: NodeState, msgs: readonly Message[], fx: Effects): void {
    fx.send(MULTICAST, msgs);
    for (const m of this.#fallback.extras) if (isPresent(m)) fx.send(m.addr, msgs);
  }

  refuted(): void {
    // The heartbeat went to the whole group already.
  }

  relay(): void {
    // Everyone heard the news from its source.
  }

  heldAccusation(): void {
    // Heartbeats arrive from every member first-hand: our own silence check is evidence enough.
  }

  syncsWhenViewsAgree(aeRound: number): boolean {
    // Hashes are 32-bit: every few rounds, sync anyway as cheap insurance.
    return aeRound % this.#fullSyncEvery === 0;
  }

  sweepMember(s: NodeState, m: Member, now: number, fx: Effects, k: number, ownIntervalMs: number): number {
    // A running probe has timers of its own; its failure makes the member suspect (setStatus
    // then asks for the regular pace), its answer restarts the silence.
    if (m.probe !== undefined) return Infinity;
    if (now < s.stalledUntil) return s.stalledUntil;
    if (m.suspicion?.sources.has(s.self.id)) return Infinity;
    const interval = memberIntervalMs(s, m, ownIntervalMs);
    const allowed = probeSilenceMs(s, silenceFor(s, m, silenceThresholdMs(k, interval), interval), interval);
    // Silence while we were stalled or heard nobody is ours: count it from when that ended.
    const since = Math.max(m.lastProgress, ownSilenceEnded(s));
    if (now - since <= allowed) return Math.floor(since + allowed) + 1;
    s.prober.start(m, now, fx);
    return Infinity;
  }

  endSweep(): void {
    // Probes start from silence alone (sweepMember).
  }
}

export class UnicastSpreading implements Spreading {
  /**
   * Without multicast every node probes an accused member itself (see heldAccusation), and a
   * refutation travels by gossip, not by one multicast: give it time before a verdict.
   */
  readonly suspicionMinMs: number;
  /** A peer heartbeats to a random few, so a gap in what reaches us is not loss. */
  readonly gapsAreLoss = false;
  readonly #fanout: number;
  readonly #relayRepeats: number;
  readonly #probeIntervalMs: number;

  constructor(profile: Profile) {
    this.suspicionMinMs = profile.suspicionMaxMs;
    this.#fanout = profile.unicastFanout;
    this.#relayRepeats = profile.relayRepeats;
    this.#probeIntervalMs = profile.probeIntervalMs;
  }

  heardHeartbeat(): void {}

  expectedGapMs(m: Member, intervalMs: number): number {
    // News of a member's heartbeats arrives at random, first- or second-hand; expect it as
    // often as it has been arriving, never faster than it beats.
    return Math.max(intervalMs, m.progressGapMs);
  }

  sendHeartbeat(s: NodeState, news: readonly Message[], hb: Heartbeat, _now: number, fx: Effects): void {
    const msgs = [...news, hb];
    const peers = randomPresent(s, this.#fanout);
    for (const p of peers) fx.send(p.addr, msgs);
    if (peers.length === 0) for (const a of s.seeds) fx.send(a, msgs);
  }

  flush(s: NodeState, msgs: readonly Message[], fx: Effects): void {
    for (const p of randomPresent(s, this.#fanout)) fx.send(p.addr, msgs);
  }

  refuted(s: NodeState, hb: Heartbeat, from: Address, fx: Effects): void {
    // A refutation would spread only by gossip, slower than the accusers' suspicion runs out
    // at high loss: tell everyone directly. Refutations are rare events.
    for (const m of s.members.values()) if (isPresent(m) && m.addr !== from) fx.send(m.addr, [hb]);
  }

  /** News spreads epidemically: whoever learns something new passes it on a couple of times. */
  relay(s: NodeState, subject: string, msg: Message, now: number, fx: Effects): void {
    queue(s, subject, msg, now, fx, this.#relayRepeats);
  }

  heldAccusation(s: NodeState, m: Member, now: number, fx: Effects): void {
    // "Heard recently" means one of a few random heartbeats in the last seconds: weak
    // evidence. Check now instead of waiting for our own silence threshold; if the probe
    // fails, the held accusation counts with ours.
    if (m.probe === undefined) s.prober.start(m, now, fx);
  }

  syncsWhenViewsAgree(): boolean {
    return true;
  }

  sweepMember(s: NodeState, m: Member, now: number, fx: Effects): number {
    // Silence is no evidence here (probe rounds are, see endSweep). Our own accusation stands
    // on one failed probe, which is weak evidence at high loss: keep checking while the
    // suspicion runs. One answer clears it.
    if (m.status === 'suspect' && m.probe === undefined && now - m.lastProbeAt >= this.#probeIntervalMs) {
      s.prober.start(m, now, fx);
    }
    // Probe rounds come due whatever members do: sweep at the regular pace.
    return now;
  }

  endSweep(s: NodeState, now: number, fx: Effects): void {
    if (now >= s.prober.nextRoundAt) s.prober.round(now, fx);
  }
}
