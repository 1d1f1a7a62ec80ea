// Memory soak on the fleet lab: N real `murmur start` processes with the sensor workload (each
// publishes 64 bytes every W seconds through its local API), sampling every process's resident
// memory once a minute from /proc. Prints one line per sample (every node's resident MB, and
// node 0's private and file-backed parts and heap) and a JSON summary. Flatness is judged from
// minute --from (default 10, or half the run when shorter) to the last minute, node by node.
//   npm run lab:soak -- --nodes 16 --minutes 60 --workload 5 [--from 10]

import { readFileSync } from 'node:fs';
import { Lab } from './lab.js';

/** Resident memory in MB from /proc: all of it, the private (anonymous) part, and the file-backed part (the node binary, shared between processes). */
function rssMb(pid: number | undefined, field = 'VmRSS'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<void> {
  let nodes = 16;
  let minutes = 10;
  let workload = 5;
  let from: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--nodes') nodes = v;
    else if (argv[i] === '--minutes') minutes = v;
    else if (argv[i] === '--workload') workload = v;
    else if (argv[i] === '--from') from = v;
    else throw new Error(`lab:soak: unknown option ${argv[i]}`);
    i++;
  }
  const lab = await Lab.create({ nodes, args: ['--families', 'ipv4'], logLevel: 'info' });
  const stop = async (): Promise<void> => {
    await lab.destroy();
    process.exit(130);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    // The lab shares its cores with whatever else the machine runs; memory is measured whether
    // or not every node sees every other alive at one instant, and the summary says which.
    const formed = await lab.waitFor('all alive', 90_000, () => lab.allAlive()).then(() => true, (e: unknown) => {
      console.log(`${(e as Error).message}; soaking anyway`);
      return false;
    });
    const timers: NodeJS.Timeout[] = [];
    lab.nodes.forEach((_, i) => {
      let seq = 0;
      const publish = (): void => {
        const value = `s${String(seq++).padStart(6, '0')}-${String(i).padStart(57, '0')}`.slice(0, 64);
        lab.api(i, 'PUT', '/v1/kv/sensor', { value }).catch(() => undefined);
      };
      timers.push(setTimeout(() => timers.push(setInterval(publish, workload * 1000)), Math.random() * workload * 1000));
    });
    const samples: number[][] = [];
    for (let m = 1; m <= minutes; m++) {
      await new Promise((r) => setTimeout(r, 60_000));
      const row = lab.nodes.map((n) => rssMb(n.proc?.pid) ?? -1);
      samples.push(row);
      const pid0 = lab.nodes[0]!.proc?.pid;
      const status = await lab.api(0, 'GET', '/v1/status').catch(() => undefined);
      const mem = (status?.body as { memory?: { heapUsed?: number; heapTotal?: number; external?: number } } | undefined)?.memory;
      console.log(`minute ${m}: rss MB node0=${row[0]} (anon ${rssMb(pid0, 'RssAnon')}, file ${rssMb(pid0, 'RssFile')}, heap used ${mem?.heapUsed} of ${mem?.heapTotal}, external ${mem?.external}) max=${Math.max(...row)} min=${Math.min(...row)} all=${row.join(',')}`);
    }
    for (const t of timers) clearTimeout(t);
    const at = (min: number): number[] => samples[Math.min(min, samples.length) - 1]!;
    const fromMinute = Math.min(from ?? 10, Math.ceil(minutes / 2));
    const mid = at(fromMinute);
    const end = at(minutes);
    const alive = await lab.allAlive();
    // Every death in a run without faults is wrong, unless a node was starved of CPU for longer
    // than detection takes (as a frozen one is): who was declared dead, by how many, and when.
    const deathList = lab.nodes.flatMap((n, i) => lab.events(i, { event: 'member-status', status: 'dead' }).map((e) => ({ observer: n.name, member: e.fields['member'] ?? '?', minute: Math.ceil(e.t / 60_000) })));
    const deaths = deathList.length;
    const deathsOf: Record<string, { by: number; minutes: number[] }> = {};
    for (const d of deathList) {
      const o = (deathsOf[d.member] ??= { by: 0, minutes: [] });
      o.by++;
      if (!o.minutes.includes(d.minute)) o.minutes.push(d.minute);
    }
    console.log(JSON.stringify({
      nodes,
      minutes,
      workload_s: workload,
      from_minute: fromMinute,
      rss_mb_node0_from: mid[0],
      rss_mb_node0_end: end[0],
      rss_mb_max_end: Math.max(...end),
      rss_mb_max_any_minute: Math.max(...samples.flat()),
      growth_mb_from_to_end_max: Math.round(Math.max(...end.map((v, i) => v - mid[i]!)) * 10) / 10,
      all_alive_at_start: formed,
      all_alive_at_end: alive,
      dead_declarations: deaths,
      dead_declarations_of: deathsOf,
    }));
  } finally {
    await lab.destroy();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
