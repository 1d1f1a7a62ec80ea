// A structural pre-check of one CBOR item, run before cbor-x sees the bytes. murmur's messages
// use only integers, floats, byte and text strings, arrays, booleans and null, nested at most
// a few levels deep. Anything else (tags, maps, indefinite lengths, deep nesting, lengths past
// the end of the datagram) is rejected here, so no hostile input can reach the decoder's
// extension machinery (record definitions, shared references, typed arrays) or make it
// allocate for a length it will never fill.

export class MalformedError extends Error {}

/** Arrays inside a message: message > entries > entry. One more level for slack. */
export const MAX_DEPTH = 4;

/** Returns the offset just past the item starting at `pos`. Throws MalformedError. */
export function scanItem(b: Uint8Array, pos: number, depth = 0): number {
  if (pos >= b.length) throw new MalformedError(`truncated: item expected at byte ${pos}`);
  const initial = b[pos]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  let p = pos + 1;
  let arg: number;
  if (info < 24) arg = info;
  else if (info === 24 || info === 25 || info === 26 || info === 27) {
    const n = 1 << (info - 24);
    if (p + n > b.length) throw new MalformedError(`truncated: ${n}-byte argument at byte ${pos}`);
    arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + b[p + i]!;
    p += n;
  } else if (info === 31) {
    throw new MalformedError(`indefinite-length item at byte ${pos}`);
  } else {
    throw new MalformedError(`reserved additional info ${info} at byte ${pos}`);
  }
  switch (major) {
    case 0: // unsigned integer
    case 1: // negative integer
      return p;
    case 2: // byte string
    case 3: // text string
      if (arg > b.length - p) throw new MalformedError(`string of ${arg} bytes overruns the datagram at byte ${pos}`);
      return p + arg;
    case 4: {
      if (depth + 1 > MAX_DEPTH) throw new MalformedError(`arrays nested deeper than ${MAX_DEPTH} at byte ${pos}`);
      // Each element takes at least one byte: a longer claim is a lie.
      if (arg > b.length - p) throw new MalformedError(`array of ${arg} items overruns the datagram at byte ${pos}`);
      for (let i = 0; i < arg; i++) p = scanItem(b, p, depth + 1);
      return p;
    }
    case 5:
      throw new MalformedError(`map at byte ${pos}: no murmur message uses maps`);
    case 6:
      throw new MalformedError(`tag ${arg} at byte ${pos}: no murmur message uses tags`);
    default: // 7: simple values and floats
      if (info < 24) {
        if (arg === 20 || arg === 21 || arg === 22) return p; // false, true, null
        throw new MalformedError(`simple value ${arg} at byte ${pos}`);
      }
      if (info === 24) throw new MalformedError(`simple value at byte ${pos}`);
      return p; // half, single or double float
  }
}
