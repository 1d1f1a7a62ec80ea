// A datagram is one version byte followed by one CBOR item per message. Concatenation rather
// than an enclosing array lets the sender reuse each message's cached encoding, and lets a
// receiver keep the messages before a damaged one.

import { Decoder } from 'cbor-x';
import type { Message } from '../core/messages.js';
import { datagramBytes } from './datagram-bytes.js';
import { encodeMessage } from './encode.js';
import { MAX_MESSAGES } from './limits.js';
import { MalformedError, scanItem } from './scan.js';
import { markLength } from './recipient.js';
import { FieldError, UnknownTypeError, toMessage } from './validate.js';
import { DEFAULT_DATAGRAM_BUDGET, WIRE_VERSION } from './version.js';
import { readHeartbeat } from './heartbeat-fast.js';

export type RejectReason =
  | 'oversize'
  | 'empty'
  | 'bad-version'
  | 'malformed-cbor'
  | 'unknown-type'
  | 'invalid-field'
  | 'too-many-messages';

export interface Rejection {
  readonly reason: RejectReason;
  readonly detail: string;
}

export interface DecodeResult {
  readonly messages: Message[];
  readonly rejected: Rejection[];
}

export class DatagramTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly budget: number,
    types: readonly number[],
  ) {
    super(`datagram of ${size} bytes exceeds the ${budget}-byte budget (message types ${types.join(',')}); refusing to send`);
  }
}

// The scanner has already excluded tags and maps; these options are belt and braces.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function datagramSize(msgs: readonly Message[]): number {
  let n = 1;
  for (const m of msgs) n += encodeMessage(m).length;
  return n;
}

/** `mark`: the recipient mark (recipient.ts), first after the version byte, for a sealed datagram. */
export function encodeDatagram(msgs: readonly Message[], budget = DEFAULT_DATAGRAM_BUDGET, mark?: Uint8Array): Uint8Array {
  const parts = msgs.map(encodeMessage);
  const size = 1 + (mark?.length ?? 0) + parts.reduce((s, p) => s + p.length, 0);
  if (size > budget) throw new DatagramTooLargeError(size, budget, msgs.map((m) => m.type));
  // Sealed (copied) or sent at once, so transient: slab memory (datagram-bytes.ts).
  const out = datagramBytes(size);
  out[0] = WIRE_VERSION;
  let p = 1;
  if (mark) {
    out.set(mark, 1);
    p += mark.length;
  }
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Decode and validate a received datagram. Never throws: everything wrong becomes a rejection. */
export function decodeDatagram(bytes: Uint8Array, budget = DEFAULT_DATAGRAM_BUDGET): DecodeResult {
  const messages: Message[] = [];
  const rejected: Rejection[] = [];
  if (bytes.length > budget) {
    rejected.push({ reason: 'oversize', detail: `${bytes.length} bytes exceeds the ${budget}-byte budget` });
    return { messages, rejected };
  }
  if (bytes.length <= 1) {
    rejected.push({ reason: 'empty', detail: `${bytes.length} bytes: no messages` });
    return { messages, rejected };
  }
  if (bytes[0] !== WIRE_VERSION) {
    rejected.push({ reason: 'bad-version', detail: `wire version ${bytes[0]}, this node speaks ${WIRE_VERSION}` });
    return { messages, rejected };
  }
  // The recipient mark was read (and checked) by the host before decoding; it is no message.
  let pos = 1 + markLength(bytes);
  if (pos >= bytes.length) {
    rejected.push({ reason: 'empty', detail: 'a recipient mark and no messages' });
    return { messages, rejected };
  }
  while (pos < bytes.length) {
    if (messages.length + rejected.length >= MAX_MESSAGES) {
      rejected.push({ reason: 'too-many-messages', detail: `more than ${MAX_MESSAGES} messages in one datagram` });
      break;
    }
    // Nearly every item is a heartbeat: read those directly, the rest through scan and cbor-x.
    const hb = readHeartbeat(bytes, pos);
    if (hb) {
      messages.push(hb.msg);
      pos = hb.end;
      continue;
    }
    let end: number;
    let raw: unknown;
    try {
      end = scanItem(bytes, pos);
      raw = decoder.decode(bytes.subarray(pos, end));
    } catch (e) {
      rejected.push({ reason: 'malformed-cbor', detail: e instanceof MalformedError ? e.message : `cbor: ${String(e)}` });
      break;
    }
    pos = end;
    try {
      messages.push(toMessage(raw));
    } catch (e) {
      if (e instanceof UnknownTypeError) rejected.push({ reason: 'unknown-type', detail: e.message });
      else if (e instanceof FieldError) rejected.push({ reason: 'invalid-field', detail: e.message });
      else rejected.push({ reason: 'invalid-field', detail: String(e) });
    }
  }
  return { messages, rejected };
}
