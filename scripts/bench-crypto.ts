// What security costs on this machine, so primitives are chosen with figures:
//   npm run bench:crypto
// secretbox (XSalsa20-Poly1305) seal+open, tweetnacl; Ed25519 sign and verify, tweetnacl and
// node:crypto. Prints one JSON line; each figure is operations per second over about 1 s.

import { generateKeyPairSync, sign, verify } from 'node:crypto';
import nacl from 'tweetnacl';

function rate(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
  }
  return Math.round(n / (ms / 1000));
}

const key = nacl.randomBytes(nacl.secretbox.keyLength);
const out: Record<string, number> = {};
for (const size of [64, 200, 1200]) {
  const msg = nacl.randomBytes(size);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const boxed = nacl.secretbox(msg, nonce, key);
  out[`secretbox_seal_${size}B_per_s`] = rate(() => nacl.secretbox(msg, nonce, key));
  out[`secretbox_open_${size}B_per_s`] = rate(() => nacl.secretbox.open(boxed, nonce, key));
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
