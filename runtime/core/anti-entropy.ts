// Scuttlebutt anti-entropy: every so often, one digest of our view (a slice of members in
// sorted-id order, with each one's life, status, heartbeat and key/value watermark) goes to a
// peer whose view hash differs. The peer answers with the deltas we lack and the digest
// entries it lacks; both sides learn membership news from the entries. A node joining through
// a seed is handed the seed's whole view at once.

import { refute, spokeUp, spreadRefutation } from './accusations.js';
import { DIGEST_OVERHEAD, fillDigest } from './digest.js';
import type { Effects } from './effects.js';
import { heardFrom, progress } from './liveness.js';
import { isPresent, type Member } from './member.js';
import { add, createMember, direct, randomPresent, restarted, setStatus, sortedIds } from './membership.js';
import { MsgType, type Address, type Delta, type Digest, type DigestEntry, type NodeId, type NodeRef } from './messages.js';
import type { NodeState } from './node-state.js';
import { kvEntrySize, packDatagrams } from './packing.js';
import { cameBack } from './reliability.js';
import { behind, entryBudget } from './state-gossip.js';

/** What our digest says about `m`. */
export function entryOf(m: Member): DigestEntry {
  const kvMax = m.kv.gen === m.gen ? m.kv.max : 0;
  return { id: m.id, gen: m.gen, inc: m.inc, status: m.status === 'unreliable' ? 'alive' : m.status, hb: m.hbSeq, kvMax, addr: m.addr };
}

/** What our digest says about ourselves. */
export function selfEntry(s: NodeState): DigestEntry {
  return {
    id: s.self.id,
    gen: s.self.gen,
    inc: s.inc,
    status: s.left ? 'left' : 'alive',
    hb: s.seq,
    kvMax: s.kv.maxVersion(s.self.id),
    addr: s.addr,
  };
}

function entryById(s: NodeState, id: NodeId): DigestEntry {
  return id === s.self.id ? selfEntry(s) : entryOf(s.members.get(id)!);
}

/** Bytes of entries one Digest datagram can carry (one byte is the wire version). */
function digestBudget(s: NodeState): number {
  return s.profile.datagramBudget - 1 - DIGEST_OVERHEAD;
}

/** Introduce ourselves to the seeds, asking for a reply. */
export function contactSeeds(s: NodeState, fx: Effects): void {
  if (s.seeds.length === 0 || s.left) return;
  const digest: Digest = {
    type: MsgType.Digest,
    from: s.self,
    lo: s.self.id,
    hi: s.self.id,
    reply: true,
    entries: [selfEntry(s)],
  };
  for (const a of s.seeds) if (a !== s.addr) fx.send(a, [digest]);
}

export function antiEntropyRound(s: NodeState, fx: Effects): void {
  if (s.left) return;
  s.aeRound++;
  s.stats.count('anti-entropy-rounds');
  // Prefer a peer whose view differs from ours. Sampling a few members keeps a round O(1)
  // in fleet size; a persistent difference is found within a few rounds anyway.
  const ids = sortedIds(s);
  let peer: Member | undefined;
  for (let i = 0; i < s.profile.antiEntropySample && ids.length > 1; i++) {
    const m = s.members.get(ids[Math.floor(s.rng.next() * ids.length)]!);
    if (m && isPresent(m) && m.view !== s.view) {
      peer = m;
      break;
    }
  }
  if (!peer && s.spreading.syncsWhenViewsAgree(s.aeRound)) peer = randomPresent(s, 1)[0];
  if (!peer) {
    if (s.present === 0) contactSeeds(s, fx);
    return;
  }
  fx.send(peer.addr, [digestSlice(s, true)]);
  s.stats.count('digests-sent');
}

/** The next slice of our view that fits one datagram, continuing where the last round stopped. */
function digestSlice(s: NodeState, reply: boolean): Digest {
  const ids = sortedIds(s);
  if (s.aeCursor >= ids.length) s.aeCursor = 0;
  const { entries, next } = fillDigest(ids, s.aeCursor, (id) => entryById(s, id), digestBudget(s));
  s.aeCursor = next;
  const lo = entries[0]?.id ?? s.self.id;
  const hi = entries[entries.length - 1]?.id ?? s.self.id;
  return { type: MsgType.Digest, from: s.self, lo, hi, reply, entries };
}

export function onDigest(s: NodeState, now: number, from: Address, d: Digest, fx: Effects): void {
  const newcomer = !s.members.has(d.from.id);
  const sender = direct(s, now, d.from, from, fx);
  if (sender) heardFrom(s, sender, sender.inc, now, fx);
  const want: DigestEntry[] = [];
  const tell: DigestEntry[] = [];
  const deltas: Delta[] = [];
  const listed = new Set<NodeId>();
  const maxChunks = s.profile.maxDeltaChunks;
  let chunks = 0;
  const sendDelta = (owner: NodeRef, fromV: number): void => {
    if (chunks >= maxChunks) return;
    for (const c of s.kv.deltaFor(owner.id, fromV, entryBudget(s), kvEntrySize, maxChunks - chunks)) {
      deltas.push({ type: MsgType.Delta, from: s.self, owner, ...c });
      chunks++;
    }
  };
  for (const e of d.entries) {
    listed.add(e.id);
    if (e.id === s.self.id) {
      if (e.gen === s.self.gen && (e.status === 'suspect' || e.status === 'dead') && e.inc >= s.inc && !s.left) {
        refute(s, now, { type: MsgType.Suspect, from: d.from, target: s.self, inc: e.inc }, from, fx);
      }
      if (e.gen < s.self.gen) tell.push(selfEntry(s));
      const mine = s.kv.maxVersion(s.self.id);
      if (e.gen === s.self.gen && e.kvMax < mine) sendDelta(s.self, e.kvMax);
      continue;
    }
    const m = learn(s, now, e, fx);
    if (!m) continue;
    if (e.gen < m.gen || e.inc < m.inc || (m.status === 'left' && e.status !== 'left')) tell.push(entryOf(m));
    if (e.gen !== m.gen) continue;
    const mine = m.kv.max;
    if (mine > e.kvMax) sendDelta({ id: m.id, gen: m.gen }, e.kvMax);
    else if (mine < e.kvMax) {
      behind(m, now);
      want.push(entryOf(m));
    }
  }
  // Members inside a full slice's range that the sender did not list: it has never heard of
  // them. Only slices (reply=true) list every member in range; replies and pulls do not.
  for (const id of d.reply ? sortedIds(s) : []) {
    if (id < d.lo || id > d.hi || listed.has(id) || id === d.from.id) continue;
    const e = entryById(s, id);
    if (e.status === 'alive' || e.status === 'suspect' || e.status === 'left') tell.push(e);
  }
  for (const batch of packDatagrams(deltas, s.profile.datagramBudget - 1, s.size)) fx.send(from, batch);
  if (want.length > 0 || tell.length > 0) {
    const reply = [...want, ...tell];
    const { entries } = fillDigest(reply, 0, (e) => e, digestBudget(s));
    fx.send(from, [{ type: MsgType.Digest, from: s.self, lo: d.lo, hi: d.hi, reply: false, entries }]);
  }
  // A stranger asking for a reply is joining through us (we are its seed): hand it our whole
  // view now instead of letting it discover the fleet one anti-entropy slice at a time.
  if (newcomer && d.reply) {
    for (const slice of wholeView(s, s.profile.joinViewDatagrams)) fx.send(from, [slice]);
  }
}

/** Our view as consecutive digest slices, at most `max` datagrams' worth. */
function wholeView(s: NodeState, max: number): Digest[] {
  const ids = sortedIds(s);
  const out: Digest[] = [];
  let i = 0;
  while (i < ids.length && out.length < max) {
    // The dead are left out: a joiner has no use for them.
    const { entries, next } = fillDigest(ids, i, (id) => {
      const e = entryById(s, id);
      return e.status === 'dead' ? undefined : e;
    }, digestBudget(s));
    i = next;
    if (entries.length === 0) break;
    out.push({ type: MsgType.Digest, from: s.self, lo: entries[0]!.id, hi: entries[entries.length - 1]!.id, reply: false, entries });
  }
  return out;
}

/**
 * Take in what a digest entry says about a member: a member we never heard of, a restart,
 * a refutation, a goodbye, or heartbeat progress relayed second-hand. Accusations are never
 * taken from digests: those travel only as Suspect/Dead messages that name their source.
 */
function learn(s: NodeState, now: number, e: DigestEntry, fx: Effects): Member | undefined {
  let m = s.members.get(e.id);
  if (!m) {
    if (e.status !== 'alive' && e.status !== 'suspect') return undefined;
    m = createMember(s, e, e.inc, e.addr, now);
    m.hbSeq = e.hb;
    add(s, m, now, fx);
    return m;
  }
  if (e.gen < m.gen) return m;
  if (e.gen > m.gen) {
    if (e.status !== 'alive' && e.status !== 'suspect') return m;
    restarted(s, m, e.gen, e.inc, e.addr, now, fx);
    m.hbSeq = e.hb;
    return m;
  }
  if (e.status === 'left' && m.status !== 'left') {
    m.inc = Math.max(m.inc, e.inc);
    setStatus(s, m, 'left', now, fx, [m.id]);
    return m;
  }
  if (e.inc > m.inc && e.status === 'alive') {
    m.inc = e.inc;
    m.heldAccusations = undefined;
    if (m.status === 'suspect' || m.status === 'dead') {
      s.broadcasts.cancel(`accuse:${m.id}`);
      const spoke = spokeUp(s, m.suspicion);
      // The entry's heartbeat counter is the relayer's latest, usually from the very heartbeat
      // that refuted: it tells a member that stopped itself from one whose link failed.
      cameBack(s, m, now, fx, m.status === 'dead', e.hb, true);
      if (spoke) spreadRefutation(s, m, now, fx);
    }
  }
  if (e.hb > m.hbSeq) {
    m.hbSeq = e.hb;
    if (isPresent(m)) progress(s, m, now);
  }
  return m;
}
