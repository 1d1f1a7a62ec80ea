// An outsider on the lab's LAN: a process without the fleet key, in its own namespace on the
// lab bridge (Lab.addHost), that throws everything it can at the fleet for a while:
//
// - random bytes of any length up to 1,500 (some shorter than a seal);
// - plaintext murmur datagrams, the real wire format: heartbeats from made-up ids and
//   accusations ("n1 is dead") against real ones;
// - frames with the sealed marker and the fleet's real key id, sniffed from the group, and
//   garbage after it (and the same under made-up key ids);
// - replays of the sealed datagrams it sniffed by joining the group.
//
// Everything goes to the group and to each node's unicast port, with a multicast TTL of 1. It
// refuses to run anywhere but a lab namespace (only loopback and the one lab address), then
// prints one JSON line saying what it sent and what it sniffed.
//
//   node dist/scripts/lab/outsider.js --local 10.77.0.200 --targets 10.77.0.10,10.77.0.11 [--seconds 10]
//       [--names n0,n1] [--group 239.255.77.77] [--group-port 7477] [--port 7478]

import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { MsgType, type Message } from '../../runtime/core/messages.js';
import { SEAL_OVERHEAD } from '../../runtime/crypto/seal.js';
import { SEALED_FRAME } from '../../runtime/wire/frames.js';
import { encodeDatagram } from '../../runtime/wire/index.js';

export type OutsiderKind = 'random' | 'plaintext' | 'forged' | 'forged-unknown-key' | 'replay';

export interface OutsiderReport {
  readonly sent: Record<OutsiderKind, number>;
  readonly sniffed: number;
  /** Key ids seen in sniffed sealed frames, as hex (what `murmur keys list` shows). */
  readonly keyIds: string[];
}

interface Options {
  local: string;
  targets: string[];
  names: string[];
  seconds: number;
  group: string;
  groupPort: number;
  port: number;
}

function parse(argv: readonly string[]): Options {
  const o: Options = { local: '', targets: [], names: [], seconds: 10, group: '239.255.77.77', groupPort: 7477, port: 7478 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[++i] ?? '';
    switch (argv[i - 1]) {
      case '--local': o.local = v; break;
      case '--targets': o.targets = v.split(',').filter(Boolean); break;
      case '--names': o.names = v.split(',').filter(Boolean); break;
      case '--seconds': o.seconds = Number(v); break;
      case '--group': o.group = v; break;
      case '--group-port': o.groupPort = Number(v); break;
      case '--port': o.port = Number(v); break;
      default: throw new Error(`outsider: unknown option ${argv[i - 1]}`);
    }
  }
  if (!o.local || o.targets.length === 0 || !(o.seconds > 0)) throw new Error('outsider: --local, --targets and a positive --seconds are required');
  return o;
}

/** Only loopback and the one lab address: this is a lab namespace, not a real host on a real LAN. */
function assertLabNamespace(local: string): void {
  const addrs = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).filter((a) => !a.internal && a.family === 'IPv4').map((a) => `${name}:${a.address}`));
  if (addrs.length !== 1 || !addrs[0]!.endsWith(`:${local}`)) {
    throw new Error(`outsider: refusing to run outside a lab namespace (expected only ${local} besides loopback, found ${addrs.join(', ') || 'nothing'})`);
  }
}

function plaintext(names: readonly string[], n: number): Uint8Array {
  const intruder = { id: `intruder-${n % 64}`, gen: 1 + (n % 7) };
  const victim = { id: names[n % Math.max(1, names.length)] ?? 'n0', gen: randomInt(1, 2 ** 40) };
  const msgs: Message[] = [{ type: MsgType.Heartbeat, from: intruder, inc: 0, seq: n, intervalMs: 250, kvMax: 0, view: 0 }];
  if (n % 2 === 0) msgs.push({ type: MsgType.Dead, from: intruder, target: victim, inc: 1_000 });
  else msgs.push({ type: MsgType.Suspect, from: intruder, target: victim, inc: 1_000 });
  return encodeDatagram(msgs);
}

function forged(keyId: Buffer): Uint8Array {
  return Buffer.concat([Buffer.from([SEALED_FRAME]), keyId, randomBytes(randomInt(SEAL_OVERHEAD - 5, 1200))]);
}

export async function runOutsider(o: Options): Promise<OutsiderReport> {
  assertLabNamespace(o.local);
  const sniffedFrames: Buffer[] = [];
  const keyIds = new Set<string>();
  let sniffed = 0;
  const sniffer = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  sniffer.on('message', (msg) => {
    if (msg.length < SEAL_OVERHEAD || msg[0] !== SEALED_FRAME) return;
    sniffed++;
    keyIds.add(msg.subarray(1, 5).toString('hex'));
    if (sniffedFrames.length < 500) sniffedFrames.push(Buffer.from(msg));
  });
  await new Promise<void>((r) => sniffer.bind(o.groupPort, '0.0.0.0', r));
  sniffer.addMembership(o.group, o.local);

  const sender = dgram.createSocket('udp4');
  await new Promise<void>((r) => sender.bind(0, o.local, r));
  sender.setMulticastInterface(o.local);
  sender.setMulticastTTL(1);
  sender.setMulticastLoopback(false);

  const sent: Record<OutsiderKind, number> = { random: 0, plaintext: 0, forged: 0, 'forged-unknown-key': 0, replay: 0 };
  const destinations: [string, number][] = [[o.group, o.groupPort], ...o.targets.map((t): [string, number] => [t, o.port])];
  const kinds: OutsiderKind[] = ['random', 'plaintext', 'forged', 'forged-unknown-key', 'replay'];
  const end = Date.now() + o.seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    for (let burst = 0; burst < 10; burst++, n++) {
      let kind = kinds[n % kinds.length]!;
      const known = [...keyIds];
      if ((kind === 'replay' && sniffedFrames.length === 0) || (kind === 'forged' && known.length === 0)) kind = 'random';
      const bytes =
        kind === 'random' ? randomBytes(randomInt(0, 1501))
        : kind === 'plaintext' ? plaintext(o.names, n)
        : kind === 'forged' ? forged(Buffer.from(known[n % known.length]!, 'hex'))
        : kind === 'forged-unknown-key' ? forged(randomBytes(4))
        : sniffedFrames[randomInt(sniffedFrames.length)]!;
      // Every kind to every destination in turn (kinds and destinations rotate independently).
      const [host, port] = destinations[Math.floor(n / kinds.length) % destinations.length]!;
      sender.send(bytes, port, host);
      sent[kind]++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 100));
  sender.close();
  sniffer.close();
  return { sent, sniffed, keyIds: [...keyIds] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runOutsider(parse(process.argv.slice(2))).then(
    (report) => console.log(JSON.stringify(report)),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
