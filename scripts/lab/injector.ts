// Puts datagrams built elsewhere on the lab's LAN: run inside a lab host's namespace
// (Lab.inject), it reads one datagram a line from stdin, "HOST:PORT HEX", sends each once from
// the host's address (multicast with a TTL of 1), and prints how many it sent. The bytes are
// the caller's: an insider test builds them with the fleet key in its own process, where the
// runtime's crypto and codecs are at hand, and this only gives them a source on the LAN.
//
//   node dist/scripts/lab/injector.js --local 10.77.0.200 < datagrams

import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';

/** Only loopback and the one lab address: this is a lab namespace, not a real host on a real LAN. */
function assertLabNamespace(local: string): void {
  const addrs = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).filter((a) => !a.internal && a.family === 'IPv4').map((a) => `${name}:${a.address}`));
  if (addrs.length !== 1 || !addrs[0]!.endsWith(`:${local}`)) {
    throw new Error(`injector: refusing to run outside a lab namespace (expected only ${local} besides loopback, found ${addrs.join(', ') || 'nothing'})`);
  }
}

function parseLine(line: string): { host: string; port: number; bytes: Buffer } {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+) ([0-9a-f]+)$/.exec(line.trim());
  if (!m || m[3]!.length % 2 !== 0) throw new Error(`injector: expected "HOST:PORT HEX", got ${JSON.stringify(line.slice(0, 80))}`);
  return { host: m[1]!, port: Number(m[2]), bytes: Buffer.from(m[3]!, 'hex') };
}

export async function runInjector(local: string): Promise<number> {
  assertLabNamespace(local);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, local, r));
  sock.setMulticastInterface(local);
  sock.setMulticastTTL(1);
  sock.setMulticastLoopback(false);
  let sent = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const d = parseLine(line);
    await new Promise<void>((resolve, reject) => sock.send(d.bytes, d.port, d.host, (e) => (e ? reject(e) : resolve())));
    sent++;
  }
  sock.close();
  return sent;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--local');
  const local = at >= 0 ? process.argv[at + 1] : undefined;
  if (!local) {
    console.error('injector: --local ADDRESS is required');
    process.exit(2);
  }
  runInjector(local).then(
    (n) => console.log(JSON.stringify({ sent: n })),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
