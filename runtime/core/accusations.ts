// Accusations and suspicion. A failed probe is this node's accusation; others' accusations
// arrive as Suspect/Dead messages that name their source. Nobody is declared dead on one
// observer's word: the suspicion record collects independent sources and the Lifeguard
// timeout shrinks as they accumulate (suspicion.ts). The accused refutes by bumping its
// incarnation, and first-hand evidence of life outweighs hearsay.

import { entryOf } from './anti-entropy.js';
import type { Effects } from './effects.js';
import { queue } from './dissemination.js';
import { heartbeat, replyHeartbeat, sendHeartbeat, silenceThreshold } from './liveness.js';
import { isPresent, type Member } from './member.js';
import { setStatus } from './membership.js';
import { isDeafToAll } from './isolation.js';
import { MsgType, type Address, type Dead, type Digest, type NodeId, type Suspect } from './messages.js';
import type { NodeState } from './node-state.js';
import { accusersPerSilence } from './profiles.js';
import { nextDeadline, verdict, type Suspicion } from './suspicion.js';
import { freshEvidenceMs, heldAccusationMaxAgeMs, notifyIntervalMs, repeatsFor } from './timing.js';

/** An accusation by this node, signed when there is a signer. */
export function accusation<T extends Suspect | Dead>(s: NodeState, a: T): T {
  return s.signer ? { ...a, sig: s.signer.accusation(a) } : a;
}

/** Our own probe of `m` failed, direct and indirect. */
export function probeFailed(s: NodeState, m: Member, now: number, fx: Effects): void {
  // Its heartbeat advanced while the probe was out (a lossy link, not a death): no accusation.
  if (m.lastProgress > m.lastProbeAt) return;
  // We stalled while it was out: the answer may be among what we had not read. Not evidence.
  if (s.listeningSince > m.lastProbeAt) {
    s.stats.count('probe-failures-own-stall');
    return;
  }
  // We heard nobody at all while it was out: our link, not its death (isolation.ts).
  if (isDeafToAll(s, now) || s.heardAgainAt > m.lastProbeAt) {
    s.stats.count('probe-failures-deaf-to-all');
    return;
  }
  accuse(s, m, s.self.id, now, fx);
  const sus = m.suspicion;
  // Speak up only while the accusation is still news: once enough others have said it, one
  // more voice adds nothing but a multicast to every device (N accusers x N receivers).
  if (sus?.sources.has(s.self.id) && sus.sources.size <= accusersPerSilence(s.profile)) {
    const target = { id: m.id, gen: m.gen };
    const msg = accusation<Suspect>(s, { type: MsgType.Suspect, from: s.self, target, inc: sus.inc });
    queue(s, `accuse:${m.id}`, msg, now, fx);
    fx.send(m.addr, [msg]);
  }
}

/** Record `source`'s accusation of `m`; the first one turns the member suspect. */
export function accuse(s: NodeState, m: Member, source: string, now: number, fx: Effects): void {
  if (!isPresent(m)) return;
  if (!m.suspicion) {
    const sources = new Set([source]);
    // Accusations we held back earlier join in, if recent enough to be about this silence.
    for (const [id, at] of m.heldAccusations ?? []) if (now - at < heldAccusationMaxAgeMs(s.profile)) sources.add(id);
    m.heldAccusations = undefined;
    m.suspicion = { inc: m.inc, startedAt: now, sources };
    m.silentSince = m.lastProgress;
    m.silentSeq = m.hbSeq;
    setStatus(s, m, 'suspect', now, fx, [source]);
    s.stats.count('suspicions');
  } else {
    m.suspicion.sources.add(source);
  }
  checkSuspicion(s, m, now, fx);
}

/** Declare `m` dead if its suspicion has run its course. */
export function checkSuspicion(s: NodeState, m: Member, now: number, fx: Effects): void {
  const sus = m.suspicion;
  if (!sus || verdict(sus, now, s.bounds) !== 'dead') return;
  const sources = [...sus.sources];
  setStatus(s, m, 'dead', now, fx, sources);
  s.stats.count('declared-dead');
  // Our declaration counts as one independent source for everyone else, never as proof. Only
  // the accusers that spoke up say it: on a multicast segment every device watches the same
  // silence and declares within moments of the others, and a death told by all of them is a
  // multicast from each survivor to each survivor, in a mass crash many times the heartbeats.
  if (spokeUp(s, sus)) {
    s.stats.count('deaths-announced');
    const d = accusation<Dead>(s, { type: MsgType.Dead, from: s.self, target: { id: m.id, gen: m.gen }, inc: sus.inc });
    queue(s, `accuse:${m.id}`, d, now, fx);
  } else {
    s.broadcasts.cancel(`accuse:${m.id}`);
  }
}

export function onAccusation(s: NodeState, now: number, from: Address, a: Suspect | Dead, fx: Effects): void {
  // Accusations are relayed without multicast, so the datagram's source need not be the
  // accuser: it says nothing about the accuser's address or liveness.
  if (a.target.id === s.self.id) {
    if (a.target.gen !== s.self.gen || s.left) return;
    if (a.inc >= s.inc) refute(s, now, a, from, fx);
    // An accuser behind on our incarnation missed the refutation; show it our current one.
    else fx.send(from, [replyHeartbeat(s, now)]);
    return;
  }
  const m = s.members.get(a.target.id);
  if (!m || m.gen !== a.target.gen || a.inc < m.inc) return;
  if (!isPresent(m)) return;
  const isNewHeld = !m.heldAccusations?.has(a.from.id) && !m.suspicion?.sources.has(a.from.id);
  // First-hand evidence beats hearsay: if we heard the member recently, the accuser is the one
  // with the bad link, and we will not add to the pile. Its coming back from our own suspicion
  // counts as such evidence even when the word came second-hand (its own refutation, relayed).
  // An unreliable member is known to go quiet for a while: only a silence as long as the one
  // that would make us probe it lets another node's word count here.
  // Judged at no more than the loss a booting node assumes: our own bad link lengthens our
  // threshold, and judged on all of it we would hold back the accusations of a real death.
  const threshold = silenceThreshold(s, m, Math.min(s.loss.loss, s.profile.lossPrior));
  const fresh = m.status === 'unreliable' ? silenceThreshold(s, m) : freshEvidenceMs(s.profile, threshold);
  if (now - Math.max(m.lastDirect, m.returnedAt) < fresh) {
    s.stats.count('accusations-held');
    (m.heldAccusations ??= new Map()).set(a.from.id, now);
    s.spreading.heldAccusation(s, m, now, fx);
    if (isNewHeld) s.spreading.relay(s, `relay-accuse:${m.id}:${a.from.id}`, a, now, fx);
    return;
  }
  const isNew = !m.suspicion?.sources.has(a.from.id);
  accuse(s, m, a.from.id, now, fx);
  // See for ourselves: our own failed probe is what makes us a second source.
  if (m.status === 'suspect' && m.probe === undefined && !m.suspicion?.sources.has(s.self.id)) {
    s.prober.start(m, now, fx);
  }
  if (isNew) s.spreading.relay(s, `relay-accuse:${m.id}:${a.from.id}`, a, now, fx);
}

/** Someone holds this life of ours suspect or dead at an incarnation we have not passed: outbid it. */
export function refute(s: NodeState, now: number, a: Suspect | Dead, from: Address, fx: Effects): void {
  s.inc = a.inc + 1;
  s.awareness.apply(1);
  s.stats.count('refutations');
  fx.emit({ type: 'suspected-self', by: a.from, inc: a.inc });
  const hb = heartbeat(s);
  sendHeartbeat(s, hb, now, fx);
  // Repeated like news: on a link that loses most datagrams one copy rarely reaches the
  // accusers before their suspicion runs out, and a refutation is rare enough to repeat.
  queue(s, `refute:${s.self.id}`, hb, now, fx, repeatsFor(s.profile, s.loss.loss));
  fx.send(from, [hb]);
  s.spreading.refuted(s, hb, from, fx);
}

/**
 * Whether this node's own accusation in `sus` (a member's suspicion, held by the caller: a change
 * of status clears it) was one of the few that went out (see probeFailed).
 */
export function spokeUp(s: NodeState, sus: Suspicion | undefined): boolean {
  if (!sus) return false;
  const at = [...sus.sources].indexOf(s.self.id);
  return at >= 0 && at < accusersPerSilence(s.profile);
}

/**
 * `m` refuted our accusation first-hand. Spread the refutation as we spread the accusation: a
 * member that loses most of its datagrams reaches few accusers itself, and the others would
 * declare it dead before one of its copies arrives. Only the accusers that spoke up do this,
 * so a refutation costs a few datagrams, not one per observer.
 */
export function spreadRefutation(s: NodeState, m: Member, now: number, fx: Effects): void {
  const msg: Digest = { type: MsgType.Digest, from: s.self, lo: m.id, hi: m.id, reply: false, entries: [entryOf(m)] };
  queue(s, `accuse:${m.id}`, msg, now, fx, repeatsFor(s.profile, s.loss.loss));
}

/** Tell a member (rate-limited) that we held it suspect or dead, so it refutes for everyone. */
export function notify(s: NodeState, m: Member, type: typeof MsgType.Suspect | typeof MsgType.Dead, now: number, fx: Effects): void {
  if (now - m.lastNotified < notifyIntervalMs(s.profile)) return;
  m.lastNotified = now;
  const target = { id: m.id, gen: m.gen };
  fx.send(m.addr, [accusation(s, { type, from: s.self, target, inc: m.inc })]);
}

/**
 * Would an accusation change anything here? False when the target is unknown, in another life,
 * past that incarnation, no longer present, or already accused by this accuser.
 */
export function accusationIsNews(s: NodeState, a: Suspect | Dead): boolean {
  if (a.target.id === s.self.id) return a.target.gen === s.self.gen && !s.left && a.inc >= s.inc;
  const m = s.members.get(a.target.id);
  if (!m || m.gen !== a.target.gen || a.inc < m.inc) return false;
  if (!isPresent(m)) return false;
  return !m.suspicion?.sources.has(a.from.id) && !m.heldAccusations?.has(a.from.id);
}

/** Who accused `id`, how many confirmations that makes, and how long until the suspicion runs out. */
export function suspicionOf(s: NodeState, id: NodeId, now: number): { accusers: string[]; confirmations: number; msLeft: number; sinceMs: number } | undefined {
  const sus = s.members.get(id)?.suspicion;
  if (!sus) return undefined;
  return {
    accusers: [...sus.sources].sort(),
    confirmations: Math.max(0, sus.sources.size - 1),
    msLeft: Math.max(0, nextDeadline(sus, s.bounds) - now),
    sinceMs: now - sus.startedAt,
  };
}
