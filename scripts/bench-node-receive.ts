// What Node itself costs to receive datagrams, before murmur does anything with them:
//   npm run bench:node-receive -- [--rate 530] [--bursts 4] [--bytes 110] [--seconds 20]
//
// A child process sends `rate` datagrams of `bytes` bytes a second to this one over
// 127.0.0.1, in `bursts` bursts a second (a device reading its sockets in batches sees few
// large bursts; one woken for every datagram sees `rate` bursts of one). This process only
// counts them, with a 'message' listener that does nothing, and prints its CPU time (user and
// system, from process.cpuUsage) per second over `seconds` after a 3 s warm-up, as one JSON
// line. At N = 128 each device hears about 530 heartbeats a second: at that rate and its read
// pacing, this is the part of `bench:device`'s figure that murmur's own code does not spend.

import { fork } from 'node:child_process';
import dgram from 'node:dgram';

interface Args {
  rate: number;
  bursts: number;
  bytes: number;
  seconds: number;
}

/** Where the forked sender sends: set by the receiver for its child only. */
const SEND_TO = 'MURMUR_BENCH_SEND_TO';

function parse(argv: readonly string[]): Args {
  const a: Args = { rate: 530, bursts: 4, bytes: 110, seconds: 20 };
  const max: Args = { rate: 100_000, bursts: 1000, bytes: 1200, seconds: 3600 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!.replace(/^--/, '') as keyof Args;
    const v = Number(argv[i + 1]);
    if (!(flag in a) || !Number.isInteger(v) || v <= 0 || v > max[flag]) {
      throw new Error(`bench:node-receive: unknown flag or bad value "${argv[i]} ${argv[i + 1]}" (flags: --rate, --bursts, --bytes, --seconds: whole numbers up to ${Object.values(max).join(', ')})`);
    }
    a[flag] = v;
  }
  return a;
}

/** The sender: `rate` datagrams a second in `bursts` bursts, until killed. */
function send(a: Args, port: number): void {
  // However the receiver ends, its sender must not go on filling loopback.
  process.on('disconnect', () => process.exit(0));
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
  const child = fork(process.argv[1]!, process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, [SEND_TO]: String(s.address().port) } });
  let childExit: string | undefined;
  child.on('exit', (code, signal) => (childExit = `the sender exited (${signal ?? code})`));
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const n0 = n;
    await new Promise((r) => setTimeout(r, a.seconds * 1000));
    const c = process.cpuUsage(c0);
    // The time that passed, not the time asked for: a busy machine wakes this timer late.
    const seconds = (performance.now() - t0) / 1000;
    if (childExit !== undefined || n === n0) throw new Error(`bench:node-receive: ${childExit ?? 'no datagram arrived'} during the window`);
    const cpuMsPerS = (c.user + c.system) / 1000 / seconds;
    const perS = (n - n0) / seconds;
    console.log(
      JSON.stringify({
        rate: a.rate,
        bursts_per_s: a.bursts,
        bytes: a.bytes,
        received_per_s: Math.round(perS),
        cpu_ms_per_s: Math.round(cpuMsPerS * 10) / 10,
        system_ms_per_s: Math.round((c.system / 1000 / seconds) * 10) / 10,
        us_per_datagram: Math.round((cpuMsPerS * 1000 * 10) / perS) / 10,
      }),
    );
  } finally {
    child.kill();
    s.close();
  }
}

const args = parse(process.argv.slice(2));
const sendTo = process.env[SEND_TO];
if (sendTo !== undefined) send(args, Number(sendTo));
else await receive(args);
