// What Node itself costs to receive datagrams, before murmur does anything with them:
//   npm run bench:node-receive -- [--rate 530] [--bursts 4] [--bytes 110] [--seconds 20]
//
// A child process sends `rate` datagrams of `bytes` bytes a second to this one over
// 127.0.0.1, in `bursts` bursts a second (a device reading its sockets in batches sees few
// large bursts; one woken for every datagram sees `rate` bursts of one). This process only
// counts them, with a 'message' listener that does nothing, and prints its CPU time (user and
// system, from process.cpuUsage) per second over `seconds` after a 3 s warm-up, as one JSON
// line. At N = 128 each device hears about 530 heartbeats a second: this is the floor under
// `bench:device`'s figure that no change inside murmur can cut.

import { fork } from 'node:child_process';
import dgram from 'node:dgram';

interface Args {
  rate: number;
  bursts: number;
  bytes: number;
  seconds: number;
}

function parse(argv: readonly string[]): Args & { sendTo?: number } {
  const a: Args & { sendTo?: number } = { rate: 530, bursts: 4, bytes: 110, seconds: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!.replace(/^--/, '');
    const v = Number(argv[i + 1]);
    if (!['rate', 'bursts', 'bytes', 'seconds', 'sendTo'].includes(flag) || !Number.isFinite(v) || v <= 0) {
      throw new Error(`bench:node-receive: unknown flag or bad value "${argv[i]} ${argv[i + 1]}" (flags: --rate, --bursts, --bytes, --seconds)`);
    }
    (a as unknown as Record<string, number>)[flag] = v;
  }
  return a;
}

/** The sender: `rate` datagrams a second in `bursts` bursts, until killed. */
function send(a: Args, port: number): void {
  const s = dgram.createSocket('udp4');
  const buf = Buffer.alloc(a.bytes, 1);
  // Owed by the clock, not per tick: a timer rounds its interval to whole milliseconds.
  let owed = 0;
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    owed += (a.rate * (now - last)) / 1000;
    last = now;
    for (; owed >= 1; owed--) s.send(buf, port, '127.0.0.1');
  }, 1000 / a.bursts);
}

async function receive(a: Args): Promise<void> {
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', () => {
    n++;
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const child = fork(process.argv[1]!, [...process.argv.slice(2), '--sendTo', String(s.address().port)], { stdio: 'inherit' });
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const c0 = process.cpuUsage();
    const n0 = n;
    await new Promise((r) => setTimeout(r, a.seconds * 1000));
    const c = process.cpuUsage(c0);
    const cpuMsPerS = (c.user + c.system) / 1000 / a.seconds;
    const perS = (n - n0) / a.seconds;
    console.log(
      JSON.stringify({
        rate: a.rate,
        bursts_per_s: a.bursts,
        bytes: a.bytes,
        received_per_s: Math.round(perS),
        cpu_ms_per_s: Math.round(cpuMsPerS * 10) / 10,
        system_ms_per_s: Math.round((c.system / 1000 / a.seconds) * 10) / 10,
        us_per_datagram: perS > 0 ? Math.round((cpuMsPerS * 1000 * 10) / perS) / 10 : null,
      }),
    );
  } finally {
    child.kill();
    s.close();
  }
}

const args = parse(process.argv.slice(2));
if (args.sendTo !== undefined) send(args, args.sendTo);
else await receive(args);
