// Heartbeats are nearly every datagram a node receives (about 530 a second per node at N = 128),
// and the general path (scanItem, then cbor-x, then toMessage) builds a throwaway array tree for
// each only to copy it into the message. This reads the shape encode.ts gives a heartbeat
// straight into the message.
//
// It takes only that shape: a 7- or 8-item array, the type, a 2-item [id, gen] with an ASCII id,
// unsigned integers of up to 4 bytes (in any of CBOR's integer forms, which cbor-x reads alike),
// and an integer below 24 as the optional 8th field. Anything else (longer arrays from a newer
// version, a non-ASCII id, an 8-byte integer, a float, a truncated or malformed item) is left to
// the general path, so for any bytes it returns what the general path would, or nothing.

import { MsgType, type Heartbeat } from '../core/messages.js';
import { MAX_ID_LENGTH } from './limits.js';

const ARRAY_2 = 0x82;
const ARRAY_7 = 0x87;
const ARRAY_8 = 0x88;
const TEXT_0 = 0x60;
const TEXT_1BYTE_LENGTH = 0x78;
const UINT_1BYTE = 0x18;
const UINT_2BYTES = 0x19;
const UINT_4BYTES = 0x1a;

/** Where the last readUint ended; module state rather than an object per field. */
let after = 0;

/** An unsigned integer of up to 4 bytes at `p`, or -1 for anything else. */
function readUint(b: Uint8Array, p: number): number {
  const n = b.length;
  if (p >= n) return -1;
  const x = b[p]!;
  if (x < UINT_1BYTE) {
    after = p + 1;
    return x;
  }
  if (x === UINT_1BYTE) {
    if (p + 2 > n) return -1;
    after = p + 2;
    return b[p + 1]!;
  }
  if (x === UINT_2BYTES) {
    if (p + 3 > n) return -1;
    after = p + 3;
    return (b[p + 1]! << 8) | b[p + 2]!;
  }
  if (x === UINT_4BYTES) {
    if (p + 5 > n) return -1;
    after = p + 5;
    return b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
  }
  return -1;
}

/** The heartbeat at `pos` and the offset just past it; undefined when it is not one in the expected shape. */
export function readHeartbeat(b: Uint8Array, pos: number): { readonly msg: Heartbeat; readonly end: number } | undefined {
  const n = b.length;
  if (pos + 4 > n) return undefined;
  const head = b[pos]!;
  if ((head !== ARRAY_7 && head !== ARRAY_8) || b[pos + 1] !== MsgType.Heartbeat || b[pos + 2] !== ARRAY_2) return undefined;
  let p = pos + 3;
  const t = b[p]!;
  let len: number;
  if (t > TEXT_0 && t < TEXT_0 + 24) {
    len = t - TEXT_0;
    p += 1;
  } else if (t === TEXT_1BYTE_LENGTH) {
    if (p + 2 > n) return undefined;
    len = b[p + 1]!;
    p += 2;
  } else return undefined;
  if (len === 0 || len > MAX_ID_LENGTH || p + len > n) return undefined;
  for (let i = p; i < p + len; i++) if (b[i]! >= 0x80) return undefined;
  // One flat string in one step (a character at a time would build a chain of pieces).
  const id = String.fromCharCode.apply(null, b.subarray(p, p + len) as unknown as number[]);
  const gen = readUint(b, p + len);
  if (gen < 0) return undefined;
  const inc = readUint(b, after);
  if (inc < 0) return undefined;
  const seq = readUint(b, after);
  if (seq < 0) return undefined;
  const intervalMs = readUint(b, after);
  if (intervalMs < 0) return undefined;
  const kvMax = readUint(b, after);
  if (kvMax < 0) return undefined;
  const view = readUint(b, after);
  if (view < 0) return undefined;
  p = after;
  let unicastMe = false;
  if (head === ARRAY_8) {
    // The general path reads any 8th item and sets unicastMe only for 1; here only a small integer.
    if (p >= n || b[p]! >= UINT_1BYTE) return undefined;
    unicastMe = b[p] === 1;
    p += 1;
  }
  const from = { id, gen };
  const msg: Heartbeat = unicastMe
    ? { type: MsgType.Heartbeat, from, inc, seq, intervalMs, kvMax, view, unicastMe: true }
    : { type: MsgType.Heartbeat, from, inc, seq, intervalMs, kvMax, view };
  return { msg, end: p };
}
