// Key/value state on the move: our own changes announced and repeated, deltas taken in from
// peers (and passed on without multicast), pulls from an owner we are behind, and the expiry
// and purging of entries. Only the owner assigns versions (kv-store.ts).

import { entryOf } from './anti-entropy.js';
import { queue } from './dissemination.js';
import type { Effects } from './effects.js';
import type { Applied } from './kv-store.js';
import { isPresent, type Member } from './member.js';
import { direct } from './membership.js';
import { MsgType, type Address, type Delta, type Digest, type KvEntry, type NodeRef, type Value } from './messages.js';
import type { NodeState } from './node-state.js';
import { DELTA_OVERHEAD, kvEntrySize } from './packing.js';
import { pullIntervalMs, repeatsFor } from './timing.js';

/** Write one of our own keys (null deletes it), tell the application and the fleet. Returns the new version. */
export function writeOwn(s: NodeState, now: number, key: string, value: Value | null, ttlMs: number, fx: Effects): number {
  const e = s.kv.write(s.self, key, value, ttlMs, now, (entry: KvEntry) => s.signer?.kv(s.self, entry));
  announceOwn(s, now, fx);
  emitKv(s.self, { key, value, version: e.version }, fx);
  return e.version;
}

/** Delete one of our own keys, if we hold it. */
export function deleteOwn(s: NodeState, now: number, key: string, fx: Effects): void {
  if (!s.kv.owner(s.self.id)?.entries.get(key)) return;
  writeOwn(s, now, key, null, 0, fx);
}

export function emitKv(owner: NodeRef, a: Applied, fx: Effects): void {
  fx.emit({ type: 'kv-changed', owner, key: a.key, value: a.value, version: a.version });
}

/** Repeat our own fresh changes; each new change restarts the schedule for everything still fresh. */
function announceOwn(s: NodeState, now: number, fx: Effects): void {
  const own = s.kv.owner(s.self.id)!;
  if (!s.broadcasts.has('own-kv:0')) s.ownFreshBase = own.max - 1;
  const chunks = s.kv.deltaFor(s.self.id, s.ownFreshBase, entryBudget(s), kvEntrySize, s.profile.ownDeltaChunks);
  chunks.forEach((c, i) => {
    const d: Delta = { type: MsgType.Delta, from: s.self, owner: s.self, ...c };
    queue(s, `own-kv:${i}`, d, now, fx, repeatsFor(s.profile, s.loss.loss));
  });
}

export function onDelta(s: NodeState, now: number, from: Address, d: Delta, fx: Effects): void {
  if (d.owner.id === s.self.id) return; // only we speak for our own keys
  if (d.from.id === d.owner.id) {
    if (!direct(s, now, d.from, from, fx)) return;
  } else {
    direct(s, now, d.from, from, fx);
  }
  const m = s.members.get(d.owner.id);
  if (!m || m.gen !== d.owner.gen) return;
  const applied: Applied[] = [];
  s.kv.apply(d.owner, d, now, applied);
  if (applied.length === 0) return;
  s.stats.count('kv-applied', applied.length);
  caughtUp(s, m, now, applied.length);
  for (const a of applied) emitKv(d.owner, a, fx);
  s.spreading.relay(s, `relay-kv:${d.owner.id}:${d.toV}`, { ...d, from: s.self }, now, fx);
}

/**
 * Reports how long each of a member's changes took to arrive here: from when this node first
 * learnt it was behind that member to now, or 0 when the changes came before any news of them
 * (pushed by the owner or a relay). Device clocks are not synchronised, so the time since the
 * owner wrote a change cannot be known here; this is the part of it a node can measure.
 */
function caughtUp(s: NodeState, m: Member, now: number, changes: number): void {
  const ms = m.behindSince === undefined ? 0 : now - m.behindSince;
  for (let i = 0; i < changes; i++) s.stats.duration('change-arrival', ms);
  if (m.kv.max >= m.advertisedKvMax) m.behindSince = undefined;
}

/** Marks a member whose announced key/value state is ahead of ours. */
export function behind(m: Member, now: number): void {
  m.behindSince ??= now;
}

/** Ask an owner directly for what we lack, at most once per probe timeout. */
export function pull(s: NodeState, m: Member, now: number, fx: Effects): void {
  behind(m, now);
  if (now - m.lastPull < pullIntervalMs(s.profile) || !isPresent(m)) return;
  m.lastPull = now;
  s.stats.count('pulls');
  const entry = entryOf(m);
  const d: Digest = { type: MsgType.Digest, from: s.self, lo: m.id, hi: m.id, reply: false, entries: [entry] };
  fx.send(m.addr, [d]);
}

/** Bytes of key/value entries one Delta datagram can carry (one byte is the wire version). */
export function entryBudget(s: NodeState): number {
  return s.profile.datagramBudget - 1 - DELTA_OVERHEAD;
}

/** Our own entries whose TTL ran out are deleted, for everyone. */
export function expireOwn(s: NodeState, now: number, fx: Effects): void {
  const expired: string[] = [];
  s.kv.sweepOwner(s.self.id, true, now, s.profile.tombstoneRetentionMs, expired);
  for (const key of expired) deleteOwn(s, now, key, fx);
}

/** Tombstones held for other owners past retention are purged. */
export function purgeReplicas(s: NodeState, now: number): void {
  const none: string[] = [];
  for (const [id] of s.kv.owners()) {
    if (id !== s.self.id) s.kv.sweepOwner(id, false, now, s.profile.tombstoneRetentionMs, none);
  }
}
