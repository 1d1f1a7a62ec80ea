// The member table: who this node knows, in which life (generation) and status, and the view
// hash that summarises it for peers. Every status change goes through setStatus, so the count
// of present members and the view hash never drift from the table.

import type { Effects } from './effects.js';
import { heardSomeone, ownSilenceEnded } from './isolation.js';
import { silentAgain } from './reliability.js';
import { isPresent, newMember, type Member } from './member.js';
import type { Address, Leave, MemberStatus, NodeId, NodeRef } from './messages.js';
import type { NodeState } from './node-state.js';
import { heartbeatIntervalMs, initialProgressGapMs, stallSlackMs, sweepIntervalMs } from './timing.js';
import { memberHash } from './view-hash.js';

/** Our heartbeat interval for the fleet as we see it now. */
export function heartbeatMs(s: NodeState): number {
  return heartbeatIntervalMs(s.profile, s.present + 1);
}

/**
 * How often `m` heartbeats, as we expect it: its advertised interval, never faster than ours
 * (`ownMs`, our interval for this fleet). An advertised interval can be stale while the fleet
 * grows, as intervals lengthen with fleet size.
 */
export function memberIntervalMs(s: NodeState, m: Member, ownMs = heartbeatMs(s)): number {
  return Math.max(m.hbIntervalMs, ownMs);
}

/** The heartbeat interval our recent stalls (NodeState.recentStalls), or our join, ask members to allow (ms); 0 when none. */
export function stallSlack(s: NodeState): number {
  let most = s.joining ? stallSlackMs(s.profile, s.profile.joinStallMs, heartbeatMs(s), s.present + 1) : 0;
  for (const x of s.recentStalls) most = Math.max(most, x.slackMs);
  return most;
}

export function statusOf(s: NodeState, id: NodeId): MemberStatus | undefined {
  if (id === s.self.id) return s.left ? 'left' : 'alive';
  return s.members.get(id)?.status;
}

/** A member we have just heard of, alive at incarnation `inc`, not yet in the table. */
export function createMember(s: NodeState, ref: NodeRef, inc: number, addr: Address, now: number): Member {
  const hbMs = heartbeatMs(s);
  return newMember(ref.id, ref.gen, inc, addr, now, hbMs, initialProgressGapMs(s.profile, hbMs), s.kv.ensure(ref));
}

/**
 * First-hand contact with a member: learn it, notice a restart, refresh its address (when the
 * datagram's source is evidence of it: NodeState.rxSourceIsAddress). Returns undefined when the
 * message comes from an older life of the member, which must never win.
 */
export function direct(s: NodeState, now: number, ref: NodeRef, addr: Address, fx: Effects): Member | undefined {
  let m = s.members.get(ref.id);
  if (!m) {
    m = createMember(s, ref, 0, addr, now);
    add(s, m, now, fx);
  } else if (ref.gen < m.gen) {
    s.stats.count('stale-generation');
    return undefined;
  } else if (ref.gen > m.gen) {
    restarted(s, m, ref.gen, 0, s.rxSourceIsAddress ? addr : m.addr, now, fx);
  }
  if (s.rxSourceIsAddress) m.addr = addr;
  // Its silence, not ours: not while we were stalled or heard nobody.
  const silenceMs = (s.deafToAllSince ?? now) - Math.max(m.lastDirect, ownSilenceEnded(s));
  m.lastDirect = now;
  silentAgain(s, m, now, silenceMs);
  heardSomeone(s, now);
  return m;
}

export function add(s: NodeState, m: Member, now: number, fx: Effects): void {
  s.members.set(m.id, m);
  s.sortedIds = undefined;
  s.present++;
  s.view = (s.view ^ memberHash(m.id, m.gen)) >>> 0;
  // Each member met is more join work (its passport, its state): the join goes on.
  const j = s.joining;
  if (j) j.until = Math.max(j.until, Math.min(now + s.profile.joinQuietMs, j.since + s.profile.stallSlackHoldMs));
  fx.emit({ type: 'member-joined', member: { id: m.id, gen: m.gen }, addr: m.addr });
}

/** The member came back in a new life: everything known of the old one is forgotten. */
export function restarted(s: NodeState, m: Member, gen: number, inc: number, addr: Address, now: number, fx: Effects): void {
  const previousGen = m.gen;
  const previous = m.status;
  const previousVerdict = m.verdict;
  if (isPresent(m)) s.view = (s.view ^ memberHash(m.id, m.gen)) >>> 0;
  else s.present++;
  m.gen = gen;
  m.inc = inc;
  m.addr = addr;
  m.status = 'alive';
  m.verdict = 'alive';
  m.statusSince = now;
  m.suspicion = undefined;
  m.heldAccusations = undefined;
  m.probe = undefined;
  m.hbSeq = 0;
  m.directSeq = 0;
  m.streamed = false;
  m.advertisedKvMax = 0;
  m.behindSince = undefined;
  m.lastProgress = now;
  m.delivery = 1;
  m.outageMs = 0;
  m.returnedAt = -Infinity;
  s.view = (s.view ^ memberHash(m.id, m.gen)) >>> 0;
  s.broadcasts.cancel(`accuse:${m.id}`);
  // Everything the fleet remembers of the old life loses to the new one, key/values included.
  s.kv.drop(m.id);
  m.kv = s.kv.ensure(m);
  fx.emit({ type: 'member-restarted', member: { id: m.id, gen }, previousGen });
  if (previous !== 'alive') {
    fx.emit({ type: 'member-status', member: { id: m.id, gen }, status: 'alive', previous, verdict: 'alive', previousVerdict, sources: [] });
  }
}

export function setStatus(s: NodeState, m: Member, status: MemberStatus, now: number, fx: Effects, sources: readonly string[] = []): void {
  const previous = m.status;
  if (previous === status) return;
  const previousVerdict = m.verdict;
  if (status !== 'suspect') m.verdict = status;
  const wasPresent = isPresent(m);
  m.status = status;
  m.statusSince = now;
  const present = isPresent(m);
  if (wasPresent && !present) {
    s.present--;
    s.view = (s.view ^ memberHash(m.id, m.gen)) >>> 0;
  } else if (!wasPresent && present) {
    s.present++;
    s.view = (s.view ^ memberHash(m.id, m.gen)) >>> 0;
  }
  if (status !== 'suspect') m.suspicion = undefined;
  // A suspicion's timeout shrinks with every confirmation, and an unreliable member is reviewed
  // as its datagrams come: both are watched at the regular pace (periodic.ts scheduleSweep).
  if (status === 'suspect' || status === 'unreliable') sweepSoon(s, now, fx);
  fx.emit({ type: 'member-status', member: { id: m.id, gen: m.gen }, status, previous, verdict: m.verdict, previousVerdict, sources });
}

/** The silence sweep's regular pace (ms), for our heartbeat interval now. */
export function regularSweepMs(s: NodeState): number {
  return sweepIntervalMs(s.profile, heartbeatMs(s));
}

/** Sweep at the regular pace from now on, whenever the next sweep was due later. */
function sweepSoon(s: NodeState, now: number, fx: Effects): void {
  const at = now + regularSweepMs(s);
  if (at >= s.sweepDue) return;
  s.sweepDue = at;
  fx.setTimer(at, { kind: 'sweep' });
}

/** A member says goodbye (first-hand or relayed). */
export function onLeave(s: NodeState, now: number, l: Leave, fx: Effects): void {
  const m = s.members.get(l.from.id);
  if (!m || l.from.gen < m.gen) return;
  // Relayed too: the datagram may come from a relayer's address, so keep the one we have.
  if (l.from.gen > m.gen) restarted(s, m, l.from.gen, l.inc, m.addr, now, fx);
  if (m.status === 'left') return;
  m.inc = Math.max(m.inc, l.inc);
  setStatus(s, m, 'left', now, fx, [m.id]);
  s.spreading.relay(s, `relay-leave:${m.id}`, l, now, fx);
}

/** Forget members dead or gone long enough, with their key/values. */
export function collectDeparted(s: NodeState, now: number, fx: Effects): void {
  for (const m of [...s.members.values()]) {
    if ((m.status === 'dead' || m.status === 'left') && now - m.statusSince >= s.profile.deadRetentionMs) {
      s.members.delete(m.id);
      s.sortedIds = undefined;
      s.kv.drop(m.id);
      fx.emit({ type: 'member-removed', member: { id: m.id, gen: m.gen } });
    }
  }
}

/** Our id and every member's, sorted: the order digests walk. */
export function sortedIds(s: NodeState): NodeId[] {
  if (!s.sortedIds) {
    s.sortedIds = [s.self.id, ...s.members.keys()].sort();
  }
  return s.sortedIds;
}

/** Up to `count` members picked at random among the alive, leaving out `exclude`. */
export function randomPresent(s: NodeState, count: number, exclude?: NodeId): Member[] {
  const pool: Member[] = [];
  for (const m of s.members.values()) if (isPresent(m) && m.id !== exclude && m.status === 'alive') pool.push(m);
  // Partial Fisher-Yates: only the first `count` positions need shuffling.
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(s.rng.next() * (pool.length - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, n);
}
