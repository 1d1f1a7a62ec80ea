// `npm run lab -- --nodes 5 [--loss 0.2] [--families ipv4,ipv6] [--no-multicast]`: builds the
// fleet lab, starts the nodes, prints their membership events, and takes commands on stdin
// until "quit" or Ctrl-C, after which everything is removed. `npm run lab -- clean` removes
// what a killed run left behind.

import { createInterface } from 'node:readline';
import { cleanStaleLabs, Lab } from './lab.js';

const help = `commands:
  kill I            kill -9 node I          start I       (re)start node I
  stop I            graceful stop (leave)   cut I / restore I   unplug / replug node I
  loss I P          drop fraction P of datagrams arriving at node I (0 removes)
  set I KEY VALUE   publish a key on node I get I OWNER  keys of OWNER as node I sees them
  members I         node I's member list    quit`;

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'clean') {
    const removed = cleanStaleLabs(argv.includes('--all'));
    console.log(removed.length ? `removed ${removed.join(' ')}` : 'nothing to clean');
    return;
  }
  let nodes = 5;
  let loss = 0;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--nodes') nodes = Number(argv[++i]);
    else if (f === '--loss') loss = Number(argv[++i]);
    else if (f === '--families') args.push('--families', argv[++i] ?? '');
    else if (f === '--no-multicast') args.push('--no-multicast');
    else throw new Error(`lab: unknown option ${f}`);
  }
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) throw new Error('lab: --nodes must be 1-200');
  const multicast = !args.includes('--no-multicast');
  const lab = await Lab.create({
    nodes,
    args,
    logLevel: 'info',
    nodeArgs: (i, l) => (multicast || i === 0 ? [] : ['--seed', l.address(0)]),
  });
  const quit = async (): Promise<void> => {
    await lab.destroy();
    process.exit(0);
  };
  process.on('SIGINT', () => void quit());
  process.on('SIGTERM', () => void quit());
  if (loss > 0) for (let i = 0; i < nodes; i++) lab.setLoss(i, loss);
  console.log(`lab ${lab.tag}: ${nodes} nodes on 10.77.0.0/24 and fd77::/64; state in ${lab.dir}\n${help}`);
  let shown = lab.nodes.map(() => 0);
  setInterval(() => {
    lab.nodes.forEach((n, i) => {
      for (const e of n.events.slice(shown[i])) {
        if (e.fields['event']?.startsWith('member-') || e.fields['level'] !== 'info') console.log(`[${n.name}] ${e.fields['event']} ${e.fields['member'] ?? ''} ${e.fields['status'] ?? ''}`.trimEnd());
      }
      shown[i] = n.events.length;
    });
  }, 200).unref();
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a, b, c] = line.trim().split(/\s+/);
    const i = Number(a);
    try {
      switch (cmd) {
        case 'kill': lab.kill(i); break;
        case 'start': lab.start(i); break;
        case 'stop': await lab.stop(i); break;
        case 'cut': lab.cut(i); break;
        case 'restore': lab.restore(i); break;
        case 'loss': lab.setLoss(i, Number(b)); break;
        case 'set': console.log(JSON.stringify((await lab.api(i, 'PUT', `/v1/kv/${encodeURIComponent(b ?? '')}`, { value: c ?? '' })).body)); break;
        case 'get': console.log(JSON.stringify((await lab.api(i, 'GET', `/v1/kv/${encodeURIComponent(b ?? '')}`)).body)); break;
        case 'members': console.log(JSON.stringify((await lab.api(i, 'GET', '/v1/members')).body, null, 1)); break;
        case 'quit': case 'exit': return quit();
        case '': break;
        default: console.log(help);
      }
    } catch (e) {
      console.log((e as Error).message);
    }
  }
  await quit();
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
