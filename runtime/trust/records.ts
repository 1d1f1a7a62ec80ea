// Signing and checking the records a device vouches for: its passport, its key/value entries
// and its accusations. Each covers exactly the fields a receiver acts on, under its own domain
// (signable.ts), so none can be passed off as another.

import type { Dead, KvEntry, NodeRef, Passport, Query, QueryReply, Suspect } from '../core/messages.js';
import { MsgType, ReplyStatus } from '../core/messages.js';
import { signBytes, verifyBytes, type SigningKey } from './ed25519.js';
import { Domain, signable } from './signable.js';

/** Checks one Ed25519 signature (ed25519.ts `verifyBytes`); pure, so a simulator may memoise it. */
export type Verifier = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean;

const passportBytes = (p: Omit<Passport, 'type' | 'sig'>): Uint8Array => signable(Domain.Passport, [p.id, p.gen, p.inc, p.left, p.publicKey, p.cert]);

export function signPassport(key: SigningKey, self: NodeRef, inc: number, left: boolean, cert: Uint8Array | null): Passport {
  const p = { id: self.id, gen: self.gen, inc, left, publicKey: key.publicKey, cert };
  return { type: MsgType.Passport, ...p, sig: signBytes(passportBytes(p), key.secretKey) };
}

/** Self-signed: proves the holder of `publicKey` made it. Who may hold which key is the gatekeeper's question. */
export function verifyPassport(p: Passport, verify: Verifier = verifyBytes): boolean {
  return verify(passportBytes(p), p.sig, p.publicKey);
}

const kvBytes = (owner: NodeRef, e: KvEntry): Uint8Array => signable(Domain.KvEntry, [owner.id, owner.gen, e.key, e.version, e.value, e.ttlMs]);

export function signKv(key: SigningKey, owner: NodeRef, e: KvEntry): Uint8Array {
  return signBytes(kvBytes(owner, e), key.secretKey);
}

export function verifyKv(publicKey: Uint8Array, owner: NodeRef, e: KvEntry, verify: Verifier = verifyBytes): boolean {
  return e.sig !== undefined && verify(kvBytes(owner, e), e.sig, publicKey);
}

const accusationBytes = (a: Suspect | Dead): Uint8Array => signable(Domain.Accusation, [a.type, a.from.id, a.from.gen, a.target.id, a.target.gen, a.inc]);

export function signAccusation(key: SigningKey, a: Suspect | Dead): Uint8Array {
  return signBytes(accusationBytes(a), key.secretKey);
}

// A query covers everything a replier acts on; a reply is bound to the one query it answers
// (asker's life and number), so it cannot be replayed into another.
const queryBytes = (q: Query): Uint8Array => signable(Domain.Query, [q.from.id, q.from.gen, q.qid, q.name, q.payload, q.prefix, q.timeoutMs]);
const replyBytes = (r: QueryReply): Uint8Array =>
  signable(Domain.QueryReply, [r.from.id, r.from.gen, r.asker.id, r.asker.gen, r.qid, ReplyStatus[r.status], r.body]);

export function signQuery(key: SigningKey, q: Query): Uint8Array {
  return signBytes(queryBytes(q), key.secretKey);
}

export function verifyQuery(publicKey: Uint8Array, q: Query, verify: Verifier = verifyBytes): boolean {
  return q.sig !== undefined && verify(queryBytes(q), q.sig, publicKey);
}

export function signQueryReply(key: SigningKey, r: QueryReply): Uint8Array {
  return signBytes(replyBytes(r), key.secretKey);
}

export function verifyQueryReply(publicKey: Uint8Array, r: QueryReply, verify: Verifier = verifyBytes): boolean {
  return r.sig !== undefined && verify(replyBytes(r), r.sig, publicKey);
}

export function verifyAccusation(publicKey: Uint8Array, a: Suspect | Dead, verify: Verifier = verifyBytes): boolean {
  return a.sig !== undefined && verify(accusationBytes(a), a.sig, publicKey);
}
