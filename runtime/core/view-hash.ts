// A 32-bit summary of which (member, generation) pairs a node considers present. Heartbeats
// carry it; equal hashes mean anti-entropy with that peer has nothing to do, which keeps a
// quiet multicast fleet from exchanging digests at all. XOR of per-member hashes makes it
// order-independent and updatable in O(1) as members come and go.

export function memberHash(id: string, gen: number): number {
  // FNV-1a over the id, then mixed with the generation (murmur3 finaliser).
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= gen >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
