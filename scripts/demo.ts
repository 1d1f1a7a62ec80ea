// `npm run demo`: five murmur nodes on this machine's loopback, with simulated LEDs and
// sensors, and the fleet page open on the first. Prints the page's address and runs until
// Ctrl-C, then stops every node (each leaves the fleet) and removes what it made.
//
//   npm run demo                         page on http://127.0.0.1:7480/
//   npm run demo -- --http 127.0.0.1:0   any free port
//   npm run demo -- --nodes 3

import { startLocalFleet } from './local-fleet.js';

function parse(argv: readonly string[]): { nodes: number; http: string } {
  let nodes = 5;
  let http = '127.0.0.1:7480';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--nodes' && v !== undefined) {
      nodes = Number(v);
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new Error(`--nodes: expected 1 to 16, got ${v}`);
      i++;
    } else if (a === '--http' && v !== undefined) {
      http = v;
      i++;
    } else throw new Error(`demo: unknown option "${a}" (expected --nodes N, --http HOST:PORT)`);
  }
  return { nodes, http };
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  process.stdout.write(`starting ${opts.nodes} murmur nodes on loopback (simulated LEDs and sensors)...\n`);
  let stopping = false;
  // Ctrl-C while starting: wait for the start to finish, then stop.
  process.on('SIGINT', () => (stopping = true));
  process.on('SIGTERM', () => (stopping = true));
  const fleet = await startLocalFleet(opts).catch((e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    return undefined;
  });
  if (!fleet) return 1;
  process.stdout.write(
    [
      '',
      `fleet page: ${fleet.urlWithToken}`,
      `            (${fleet.url} reads without the token; the token lets Identify work)`,
      `nodes:      ${fleet.nodes.map((n) => `${n.name} ${n.addr}`).join(', ')}`,
      `try:        node dist/runtime/cli/bin.js set hello world --state-dir ${fleet.nodes[1]!.stateDir}`,
      '',
      'Ctrl-C stops the fleet.',
      '',
    ].join('\n'),
  );
  for (const n of fleet.nodes) {
    n.proc.once('exit', (code, signal) => {
      if (!stopping) process.stdout.write(`${n.name} exited (${signal ?? code}); the page shows it dead soon\n`);
    });
  }
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (!stopping) return;
      clearInterval(check);
      resolve();
    }, 100);
  });
  process.stdout.write('stopping the fleet...\n');
  await fleet.stop();
  process.stdout.write('stopped\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
