// What security costs on this machine, so primitives are chosen with figures:
//   npm run bench:crypto
// secretbox (XSalsa20-Poly1305) seal+open, tweetnacl, and murmur's one-pass seal and open
// (runtime/crypto/secretbox.ts); Ed25519 sign and verify, tweetnacl and
// node:crypto. Prints one JSON line; each figure is operations per second of CPU time, measured
// over about 1 s.

import { generateKeyPairSync, sign, verify } from 'node:crypto';
import nacl from 'tweetnacl';
import { secretboxOpen, secretboxSealInto } from '../runtime/crypto/secretbox.js';

/**
 * Operations per second of CPU time (this process's user + system), so a busy shared machine
 * slows the run down without skewing the figure much.
 */
function rate(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  let n = 0;
  const c0 = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
  }
  const c = process.cpuUsage(c0);
  return Math.round(n / ((c.user + c.system) / 1e6));
}

const key = nacl.randomBytes(nacl.secretbox.keyLength);
const out: Record<string, number> = {};
for (const size of [64, 200, 1200]) {
  const msg = nacl.randomBytes(size);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const boxed = nacl.secretbox(msg, nonce, key);
  const into = new Uint8Array(boxed.length);
  out[`secretbox_seal_${size}B_per_s`] = rate(() => nacl.secretbox(msg, nonce, key));
  out[`secretbox_seal_one_pass_${size}B_per_s`] = rate(() => secretboxSealInto(msg, nonce, key, into, 0));
  out[`secretbox_open_${size}B_per_s`] = rate(() => nacl.secretbox.open(boxed, nonce, key));
  out[`secretbox_open_one_pass_${size}B_per_s`] = rate(() => secretboxOpen(boxed, nonce, key));
}
out['secretbox_overhead_bytes'] = nacl.secretbox.overheadLength + nacl.secretbox.nonceLength;

const msg = nacl.randomBytes(200);
const kp = nacl.sign.keyPair();
const sig = nacl.sign.detached(msg, kp.secretKey);
out['ed25519_tweetnacl_sign_per_s'] = rate(() => nacl.sign.detached(msg, kp.secretKey), 1500);
out['ed25519_tweetnacl_verify_per_s'] = rate(() => nacl.sign.detached.verify(msg, sig, kp.publicKey), 1500);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const nsig = sign(null, msg, privateKey);
out['ed25519_node_crypto_sign_per_s'] = rate(() => sign(null, msg, privateKey));
out['ed25519_node_crypto_verify_per_s'] = rate(() => verify(null, msg, publicKey, nsig));
out['ed25519_signature_bytes'] = sig.length;
console.log(JSON.stringify(out));
