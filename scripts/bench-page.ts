// What an open fleet page costs the node serving it: CPU (ms per second) and resident memory
// of that node's process, with no page open and with pages open in Debian's chromium, in
// alternating windows (off, on, off, on...) so drift on a shared machine hits both alike.
//
//   npm run bench:page -- [--nodes 5] [--window 30] [--rounds 2] [--pages 1] [--schedule "*/5 * * * * *"]
//
// The fleet is scripts/local-fleet.ts: real processes on loopback, simulated sensors sampled
// on --schedule (every 5 s by default, six times the default rate, so the page sees more events
// than on a real fleet).

import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLocalFleet } from './local-fleet.js';

interface Args {
  nodes: number;
  windowS: number;
  rounds: number;
  pages: number;
  schedule: string;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { nodes: 5, windowS: 30, rounds: 2, pages: 1, schedule: '*/5 * * * * *' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${k}: expected a value`);
    if (k === '--schedule') a.schedule = v;
    else {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${k}: expected a positive integer, got ${v}`);
      if (k === '--nodes') a.nodes = n;
      else if (k === '--window') a.windowS = n;
      else if (k === '--rounds') a.rounds = n;
      else if (k === '--pages') a.pages = n;
      else throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Window {
  readonly cpuMsPerS: number;
  readonly rssMeanMb: number;
  readonly rssMaxMb: number;
}

async function measure(pid: number, seconds: number): Promise<Window> {
  const c0 = cpuS(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMb(pid));
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { cpuMsPerS: ((cpuS(pid) - c0) * 1000) / elapsed, rssMeanMb: rss.reduce((s, x) => s + x, 0) / rss.length, rssMaxMb: Math.max(...rss) };
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const fleet = await startLocalFleet({ nodes: a.nodes, http: '127.0.0.1:0', schedule: a.schedule, prefix: 'bench' });
  let browser: Browser | undefined;
  try {
    const pid = fleet.nodes[0]!.proc.pid!;
    browser = await chromium.launch({ executablePath: process.env['MURMUR_CHROMIUM'] ?? '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    process.stdout.write(`${a.nodes} nodes, sensors on "${a.schedule}", ${a.pages} page(s), ${a.rounds} rounds of ${a.windowS} s off + ${a.windowS} s on; warming up 20 s\n`);
    await new Promise((r) => setTimeout(r, 20_000));
    const off: Window[] = [];
    const on: Window[] = [];
    for (let r = 0; r < a.rounds; r++) {
      off.push(await measure(pid, a.windowS));
      const pages: Page[] = [];
      for (let p = 0; p < a.pages; p++) {
        const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
        await page.goto(fleet.url);
        pages.push(page);
      }
      // Past the first load: the cost of keeping it open.
      await new Promise((res) => setTimeout(res, 3000));
      on.push(await measure(pid, a.windowS));
      await Promise.all(pages.map((p) => p.close()));
      process.stdout.write(`round ${r + 1}: off ${fmt(off[r]!)} | on ${fmt(on[r]!)}\n`);
    }
    const mean = (ws: Window[], k: keyof Window): number => ws.reduce((s, w) => s + w[k], 0) / ws.length;
    process.stdout.write(
      [
        '',
        `serving node, page closed: CPU ${mean(off, 'cpuMsPerS').toFixed(1)} ms/s, RSS ${mean(off, 'rssMeanMb').toFixed(1)} MB (max ${Math.max(...off.map((w) => w.rssMaxMb)).toFixed(1)})`,
        `serving node, page open:   CPU ${mean(on, 'cpuMsPerS').toFixed(1)} ms/s, RSS ${mean(on, 'rssMeanMb').toFixed(1)} MB (max ${Math.max(...on.map((w) => w.rssMaxMb)).toFixed(1)})`,
        `an open page costs:        ${(mean(on, 'cpuMsPerS') - mean(off, 'cpuMsPerS')).toFixed(1)} ms/s CPU, ${(mean(on, 'rssMeanMb') - mean(off, 'rssMeanMb')).toFixed(1)} MB RSS`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser?.close();
    await fleet.stop();
  }
}

function fmt(w: Window): string {
  return `${w.cpuMsPerS.toFixed(1)} ms/s, RSS ${w.rssMeanMb.toFixed(1)} MB`;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-page: ${(e as Error).message}\n`);
  process.exit(1);
});
