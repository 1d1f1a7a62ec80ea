// Memory for one datagram's bytes on its way in or out: the plaintext a seal opens to, the
// frame a send hands to the socket. A typed array longer than 64 bytes gets a backing store of
// its own outside V8's heap, which costs about a microsecond to allocate and track, and the
// receive and send paths need one or more per datagram. Views into a shared slab cost a tenth
// of that.
//
// A slab is only ever handed out, never written to again or reused: when it is full a new one
// is started, and the old one is freed by the garbage collector with the last view into it. A
// view therefore behaves exactly as a fresh zero-filled array of its own (its `buffer` is the
// slab: read it with byteOffset), except that keeping one for long keeps its whole slab alive.
// Nothing on the datagram path does: the decoder copies out whatever outlives the datagram
// (runtime/wire/validate.ts).

const SLAB_BYTES = 16 * 1024;
/** Larger requests get an array of their own: they would waste most of a slab's tail. */
const LARGEST = 2048;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** `n` zero bytes for one datagram's short life. */
export function datagramBytes(n: number): Uint8Array {
  if (n > LARGEST) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  used += n;
  return out;
}
