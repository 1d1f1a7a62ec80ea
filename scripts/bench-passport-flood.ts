// CPU cost of a flood of bad passports at one device: what a device holding the fleet key can
// make every other device spend. Sends sealed datagrams of passports with garbage signatures
// into one host (channel, wire, gatekeeper and core, as on a device) at a steady rate from one
// source address, on a virtual clock, and prints the CPU time the host spent.
//
//   node dist/scripts/bench-passport-flood.js [--rate 1400] [--seconds 10] [--per-datagram 8]

import nacl from 'tweetnacl';
import { coreView } from '../runtime/host/assembly.js';
import { NodeHost, sealedProfile } from '../runtime/host/node-host.js';
import { RealTimeScheduler } from '../runtime/host/scheduler.js';
import { MsgType, type Passport } from '../runtime/core/messages.js';
import { Node } from '../runtime/core/node.js';
import { profiles } from '../runtime/core/profiles.js';
import { FleetChannel } from '../runtime/crypto/fleet-channel.js';
import { SEAL_OVERHEAD } from '../runtime/crypto/seal.js';
import { Keyring } from '../runtime/crypto/keyring.js';
import { Prng } from '../runtime/sim/prng.js';
import { generateSigningKey } from '../runtime/trust/ed25519.js';
import { Gatekeeper } from '../runtime/trust/gatekeeper.js';
import { signPassport } from '../runtime/trust/records.js';
import { encodeDatagram, sizeOf } from '../runtime/wire/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got ${process.argv[i + 1]}`);
  return v;
}

const rate = arg('rate', 1400);
const seconds = arg('seconds', 10);
const perDatagram = arg('per-datagram', 8);

const fleetKey = nacl.randomBytes(32);
function channel(id: string, gen: number): FleetChannel {
  const keyring = new Keyring(0);
  keyring.use(keyring.install(fleetKey));
  return new FleetChannel(keyring, id, gen);
}

let now = 0;
const clock = (): number => Math.floor(now);
let node: Node | undefined;
const gate = new Gatekeeper({
  self: { id: 'victim', gen: 1 },
  key: generateSigningKey(),
  ...coreView(() => node, clock),
});
node = new Node({ id: 'victim', gen: 1, addr: '10.0.0.1:7478', profile: sealedProfile(profiles.lan), rng: new Prng(1), size: sizeOf, multicast: true, signer: gate.signer });
const host = new NodeHost({ node, clock, scheduler: new RealTimeScheduler(clock), budget: 1200, channel: channel('victim', 1), gate, transport: { send: () => {} } });

// The attacker's datagrams, sealed under the fleet key: passports for fresh ids with garbage
// signatures, so every one costs a full verification if it is checked.
const attacker = channel('insider', 1);
const template = signPassport(generateSigningKey(), { id: 'x', gen: 1 }, 0, false, null);
const total = Math.round(rate * seconds);
const datagrams: Uint8Array[] = [];
for (let i = 0; i < total; i++) {
  const ps: Passport[] = [];
  for (let j = 0; j < perDatagram; j++) {
    const sig = nacl.randomBytes(64);
    ps.push({ ...template, type: MsgType.Passport, id: `forged-${i}-${j}`, sig });
  }
  datagrams.push(attacker.seal(encodeDatagram(ps, 1200 - SEAL_OVERHEAD)));
}

const before = process.cpuUsage();
const t0 = performance.now();
for (const d of datagrams) {
  host.receive(d, '10.0.0.66:7478', false);
  now += 1000 / rate;
}
const cpu = process.cpuUsage(before);
const cpuS = (cpu.user + cpu.system) / 1e6;
const r = host.refusals();
console.log(
  JSON.stringify({
    datagrams: total,
    per_datagram: perDatagram,
    rate_per_s: rate,
    virtual_s: seconds,
    cpu_s: Number(cpuS.toFixed(3)),
    cpu_s_per_virtual_s: Number((cpuS / seconds).toFixed(4)),
    wall_ms: Math.round(performance.now() - t0),
    bad_signature: r['bad-signature'] ?? 0,
    verify_budget: r['verify-budget'] ?? 0,
  }),
);
