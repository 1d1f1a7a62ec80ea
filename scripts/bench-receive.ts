// CPU per datagram of one secure node, measured without sockets or a busy machine's noise:
//   npm run build && npm run bench:receive -- [--nodes 16] [--receivers 1] [--loss 0.1] [--seconds 40] [--workload 5] [--reps 15] [--seed 1]
//
// First a fleet of N secure nodes (runtime/host/assembly.ts, as a device builds them) runs on a
// virtual clock, each datagram delivered to each receiver after a millisecond or two, dropped
// independently with probability `loss`, and every node republishing 64 bytes every `workload`
// seconds. Every datagram that reaches the first node is recorded, with its time. Then, `reps`
// times, a fresh copy of that node (the same id, keys and generation) is fed the recording in
// order, its own timers firing in virtual time and what it sends going nowhere, and the CPU it
// spends is timed: per received datagram (open, decode, gatekeeper, core), and per timer
// (heartbeats, sweeps, anti-entropy: encoding and sealing what goes out). The join (the first
// `--join` seconds, when passports are checked) and the steady state are reported apart, by the
// wall clock around each call; cpu_us_per_datagram is the process's CPU time for the whole
// replay (datagrams and timers) per datagram received, which other processes on a busy machine
// disturb less.
//
// The recording is determined by the seed (device keys, the fleet key and nonces come from
// seeded streams), so two builds are compared on the same bytes. Prints one JSON line; the
// figures are in microseconds, the best of the reps: on a shared machine the other processes
// only ever add time.

import type { Address } from '../runtime/core/messages.js';
import { MULTICAST } from '../runtime/core/effects.js';
import { profileByName } from '../runtime/core/profiles.js';
import { Keyring } from '../runtime/crypto/keyring.js';
import { assembleNode, type AssembledNode } from '../runtime/host/assembly.js';
import type { TimerScheduler } from '../runtime/host/scheduler.js';
import type { DatagramHandler, Transport } from '../runtime/net/transport.js';
import { newCounters } from '../runtime/net/transport.js';
import { EventQueue } from '../runtime/sim/event-queue.js';
import { bytesFrom, Prng } from '../runtime/sim/prng.js';
import { publicKeyOf, verifyBytes, type SigningKey } from '../runtime/trust/ed25519.js';

interface Args {
  nodes: number;
  loss: number;
  seconds: number;
  workload: number;
  reps: number;
  seed: number;
  join: number;
  /** Nodes replayed side by side in one process, as bench:fleet runs eight per process. */
  receivers: number;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { nodes: 16, loss: 0.1, seconds: 40, workload: 5, reps: 15, seed: 1, join: 5, receivers: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!.replace(/^--/, '');
    const v = Number(argv[i + 1]);
    if (!(flag in a) || !Number.isFinite(v)) throw new Error(`bench:receive: unknown flag or bad value "${argv[i]} ${argv[i + 1]}" (flags: ${Object.keys(a).join(', ')})`);
    (a as unknown as Record<string, number>)[flag] = v;
  }
  return a;
}

const GEN = 1_790_000_000;

function signingKey(rng: Prng): SigningKey {
  const secretKey = bytesFrom(rng)(32);
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

class QueueScheduler implements TimerScheduler {
  late = 0;
  #gen = 0;
  constructor(
    private readonly queue: EventQueue<() => void>,
    private readonly wrap: (fire: () => void) => () => void = (f) => f,
  ) {}
  at(at: number, fire: () => void): void {
    const g = this.#gen;
    const run = this.wrap(fire);
    this.queue.push(at, () => {
      if (g === this.#gen) run();
    });
  }
  cancelAll(): void {
    this.#gen++;
  }
}

class QueueTransport implements Transport {
  readonly counters = newCounters();
  readonly id = 'bench';
  multicastReady = true;
  handler: DatagramHandler = () => {};
  constructor(
    readonly localAddress: Address,
    readonly onSend: (to: Address, bytes: Uint8Array) => void,
  ) {}
  listen(h: DatagramHandler): void {
    this.handler = h;
  }
  send(to: Address, bytes: Uint8Array): void {
    this.counters.sentPackets++;
    this.onSend(to, bytes);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Delivery {
  /** The receiving node's index. */
  readonly to: number;
  readonly at: number;
  readonly bytes: Uint8Array;
  readonly from: Address;
  readonly viaMulticast: boolean;
}

const addrOf = (i: number): Address => `10.0.${i >> 8}.${i & 255}:7946`;
const idOf = (i: number): string => `n${String(i).padStart(3, '0')}`;

interface Identity {
  readonly keyring: Keyring;
  readonly keys: SigningKey[];
}

function identities(a: Args): Identity {
  const rng = new Prng(a.seed);
  const keyring = new Keyring(0, () => 0);
  keyring.use(keyring.install(bytesFrom(rng.fork('fleet-key'))(32)));
  const keys: SigningKey[] = [];
  for (let i = 0; i < a.nodes; i++) keys.push(signingKey(rng.fork(`device-${i}`)));
  return { keyring, keys };
}

/** Ed25519 checks, timed: the one cost per datagram no change to the receive path can cut. */
const verifyTime = { us: 0 };
function timedVerify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  const t0 = performance.now();
  const ok = verifyBytes(message, signature, publicKey);
  verifyTime.us += (performance.now() - t0) * 1000;
  return ok;
}

function build(i: number, a: Args, id: Identity, queue: EventQueue<() => void>, clock: () => number, send: (to: Address, b: Uint8Array) => void, wrapTimer?: (f: () => void) => () => void): { node: AssembledNode; transport: QueueTransport } {
  const rng = new Prng(a.seed).fork(`node-${i}`);
  const transport = new QueueTransport(addrOf(i), send);
  const node = assembleNode({
    id: idOf(i),
    gen: GEN,
    profile: profileByName('lan'),
    transport,
    clock,
    scheduler: new QueueScheduler(queue, wrapTimer),
    rng: rng.fork('core'),
    multicast: true,
    security: { keyring: id.keyring, deviceKey: id.keys[i]!, nonces: bytesFrom(rng.fork('nonces')), verify: timedVerify },
  });
  return { node, transport };
}

function sensor(seq: number, id: string): string {
  return `s${String(seq).padStart(6, '0')}-${id.padStart(57, '0')}`.slice(0, 64);
}

/** Run the fleet on a virtual clock and return every datagram the first `receivers` nodes received. */
function record(a: Args, id: Identity): Delivery[] {
  const queue = new EventQueue<() => void>();
  let now = 0;
  const clock = (): number => now;
  const net = new Prng(a.seed).fork('network');
  const nodes: { node: AssembledNode; transport: QueueTransport }[] = [];
  const byAddr = new Map<Address, number>();
  const got: Delivery[] = [];
  const deliver = (to: number, bytes: Uint8Array, from: Address, viaMulticast: boolean): void => {
    if (net.next() < a.loss) return;
    const at = now + 1 + net.int(2);
    queue.push(at, () => {
      // As node:dgram hands them over: a Buffer per datagram.
      if (to < a.receivers) got.push({ to, at, bytes: Buffer.from(bytes), from, viaMulticast });
      nodes[to]!.transport.handler(bytes, from, viaMulticast);
    });
  };
  for (let i = 0; i < a.nodes; i++) {
    byAddr.set(addrOf(i), i);
    nodes.push(
      build(i, a, id, queue, clock, (to, bytes) => {
        if (to === MULTICAST) {
          for (let j = 0; j < a.nodes; j++) if (j !== i) deliver(j, bytes, addrOf(i), true);
        } else {
          const j = byAddr.get(to);
          if (j !== undefined) deliver(j, bytes, addrOf(i), false);
        }
      }),
    );
  }
  const phase = new Prng(a.seed).fork('workload');
  for (let i = 0; i < a.nodes; i++) {
    const n = nodes[i]!;
    queue.push(phase.int(200), () => n.node.host.start());
    if (a.workload > 0) {
      let seq = 0;
      const publish = (): void => {
        n.node.host.set('sensor', sensor(seq++, idOf(i)));
        queue.push(now + a.workload * 1000, publish);
      };
      queue.push(1000 + phase.int(a.workload * 1000), publish);
    }
  }
  const end = a.seconds * 1000;
  for (let e = queue.pop(); e && e.at <= end; e = queue.pop()) {
    now = e.at;
    e.item();
  }
  return got;
}

interface Timing {
  joinUs: number;
  joinN: number;
  steadyUs: number;
  steadyN: number;
  /** Of steadyUs: Ed25519 checks. */
  steadyVerifyUs: number;
  timerUs: number;
  timerN: number;
  sent: number;
  verified: number;
  /** CPU time (user + system) of the whole replay: every datagram and timer, the join included. */
  cpuUs: number;
  n: number;
}

/** Feed the recording to fresh copies of its receivers and time what they spend. */
function replay(a: Args, id: Identity, got: readonly Delivery[]): Timing {
  const queue = new EventQueue<() => void>();
  let now = 0;
  const clock = (): number => now;
  const t: Timing = { joinUs: 0, joinN: 0, steadyUs: 0, steadyN: 0, steadyVerifyUs: 0, timerUs: 0, timerN: 0, sent: 0, verified: 0, cpuUs: 0, n: got.length };
  const steadyFrom = a.join * 1000;
  const timed = (fire: () => void) => (): void => {
    const t0 = performance.now();
    fire();
    if (now >= steadyFrom) {
      t.timerUs += (performance.now() - t0) * 1000;
      t.timerN++;
    }
  };
  const nodes: ReturnType<typeof build>[] = [];
  for (let i = 0; i < a.receivers; i++) {
    const n = build(i, a, id, queue, clock, () => {}, timed);
    nodes.push(n);
    queue.push(0, () => n.node.host.start());
  }
  for (const d of got) {
    const transport = nodes[d.to]!.transport;
    queue.push(d.at, () => {
      const v0 = verifyTime.us;
      const t0 = performance.now();
      transport.handler(d.bytes, d.from, d.viaMulticast);
      const us = (performance.now() - t0) * 1000;
      if (d.at < steadyFrom) {
        t.joinUs += us;
        t.joinN++;
      } else {
        t.steadyUs += us;
        t.steadyN++;
        t.steadyVerifyUs += verifyTime.us - v0;
      }
    });
  }
  const c0 = process.cpuUsage();
  for (let e = queue.pop(); e && e.at <= a.seconds * 1000; e = queue.pop()) {
    now = e.at;
    e.item();
  }
  const c = process.cpuUsage(c0);
  t.cpuUs = c.user + c.system;
  for (const n of nodes) {
    t.sent += n.transport.counters.sentPackets;
    t.verified += n.node.host.signatureChecks.checks;
  }
  return t;
}

const best = (xs: number[]): number => Math.min(...xs);
const r2 = (x: number): number => Math.round(x * 100) / 100;

function main(): void {
  const a = parse(process.argv.slice(2));
  const id = identities(a);
  const got = record(a, id);
  const runs: Timing[] = [];
  // One unmeasured run first: the code is compiled and optimised before anything counts.
  replay(a, id, got);
  for (let r = 0; r < a.reps; r++) runs.push(replay(a, id, got));
  const last = runs[runs.length - 1]!;
  const seconds = a.seconds - a.join;
  console.log(
    JSON.stringify({
      nodes: a.nodes,
      loss: a.loss,
      seconds: a.seconds,
      seed: a.seed,
      received: got.length,
      receivers: a.receivers,
      received_per_s: r2(last.steadyN / seconds / a.receivers),
      sent_per_s: r2(last.sent / a.seconds / a.receivers),
      verified: last.verified,
      join_us_per_datagram: r2(best(runs.map((x) => x.joinUs / x.joinN))),
      steady_us_per_datagram: r2(best(runs.map((x) => x.steadyUs / x.steadyN))),
      steady_us_per_datagram_without_ed25519: r2(best(runs.map((x) => (x.steadyUs - x.steadyVerifyUs) / x.steadyN))),
      timer_us_per_fire: r2(best(runs.map((x) => x.timerUs / x.timerN))),
      timers_per_s: r2(last.timerN / seconds / a.receivers),
      cpu_us_per_datagram: r2(best(runs.map((x) => x.cpuUs / x.n))),
      steady_cpu_ms_per_s: r2(best(runs.map((x) => (x.steadyUs + x.timerUs) / 1000 / seconds / a.receivers))),
    }),
  );
}

main();
