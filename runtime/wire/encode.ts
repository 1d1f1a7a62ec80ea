// Messages as compact positional CBOR arrays: [type, ...fields]. Field names never go on the
// wire; a NodeRef is [id, gen]; a status is its small integer code. Each message is encoded
// once and cached, because the core measures it for packing and a multicast is encoded once
// for every receiver.

import { Encoder } from 'cbor-x';
import { MsgType, ReplyStatus, StatusCode, type DigestEntry, type KvEntry, type Message, type NodeRef } from '../core/messages.js';

const encoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true, variableMapSize: true });
const cache = new WeakMap<Message, Uint8Array>();

const ref = (r: NodeRef): unknown[] => [r.id, r.gen];
const entry = (e: DigestEntry): unknown[] => [e.id, e.gen, e.inc, StatusCode[e.status], e.hb, e.kvMax, e.addr];
const kv = (e: KvEntry): unknown[] => (e.sig ? [e.key, e.version, e.value, e.ttlMs, e.sig] : [e.key, e.version, e.value, e.ttlMs]);

/** The positional array form of a message (what CBOR then encodes). */
export function toArray(m: Message): unknown[] {
  switch (m.type) {
    case MsgType.Heartbeat:
      return m.unicastMe
        ? [m.type, ref(m.from), m.inc, m.seq, m.intervalMs, m.kvMax, m.view, 1]
        : [m.type, ref(m.from), m.inc, m.seq, m.intervalMs, m.kvMax, m.view];
    case MsgType.Ping:
      return [m.type, ref(m.from), ref(m.target), m.probe];
    case MsgType.Ack:
      return [m.type, ref(m.from), m.probe, m.inc];
    case MsgType.PingReq:
      return [m.type, ref(m.from), ref(m.target), m.targetAddr, m.probe];
    case MsgType.Suspect:
    case MsgType.Dead:
      return m.sig ? [m.type, ref(m.from), ref(m.target), m.inc, m.sig] : [m.type, ref(m.from), ref(m.target), m.inc];
    case MsgType.Leave:
      return [m.type, ref(m.from), m.inc];
    case MsgType.Digest:
      return [m.type, ref(m.from), m.lo, m.hi, m.reply, m.entries.map(entry)];
    case MsgType.Delta:
      return [m.type, ref(m.from), ref(m.owner), m.fromV, m.toV, m.reset, m.entries.map(kv)];
    case MsgType.Passport:
      return [m.type, m.id, m.gen, m.inc, m.left, m.publicKey, m.cert, m.sig];
    case MsgType.WhoIs:
      return [m.type, ref(m.from), m.ids];
    case MsgType.Query: {
      const a = [m.type, ref(m.from), m.qid, m.name, m.payload, m.prefix, m.timeoutMs];
      return m.sig ? [...a, m.sig] : a;
    }
    case MsgType.QueryReply: {
      const a = [m.type, ref(m.from), ref(m.asker), m.qid, ReplyStatus[m.status], m.body];
      return m.sig ? [...a, m.sig] : a;
    }
  }
}

export function encodeMessage(m: Message): Uint8Array {
  let b = cache.get(m);
  if (!b) {
    // cbor-x reuses its output buffer between calls: copy out what is ours (the typed-array
    // constructor copies in one go; Uint8Array.from walks an iterator).
    b = new Uint8Array(encoder.encode(toArray(m)));
    cache.set(m, b);
  }
  return b;
}

/** Encoded size in bytes. */
export function sizeOf(m: Message): number {
  return encodeMessage(m).length;
}
