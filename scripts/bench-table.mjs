#!/usr/bin/env node
// Turns the JSON lines of scripts/bench-compare.sh into the Markdown tables of BENCHMARKS.md:
//   node scripts/bench-table.mjs < compare.jsonl
import { createInterface } from 'node:readline';

const rows = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim().startsWith('{')) rows.push(JSON.parse(line));
}
const sys = (r) => (String(r.system).startsWith('memberlist') ? 'memberlist' : 'murmur');
const fmt = (x, d = 0) => (typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const cols = [
  ['join_converge_ms', 0], ['update_all_ms', 0], ['detect_all_ms', 0], ['bytes_per_node_s', 0],
  ['packets_per_node_s', 1], ['cpu_ms_per_node_s', 1], ['false_positives', 0],
];
console.log(`| N | loss | system | ${cols.map(([c]) => c).join(' | ')} |`);
console.log(`|---|---|---|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.n} | ${r.loss} | ${sys(r)} | ${cols.map(([c, d]) => fmt(r[c], d)).join(' | ')} |`);

console.log('\nRatios, murmur / memberlist (same session):\n');
console.log(`| N | loss | ${cols.slice(0, 6).map(([c]) => c).join(' | ')} |`);
console.log(`|---|---|${cols.slice(0, 6).map(() => '---').join('|')}|`);
for (const m of rows.filter((r) => sys(r) === 'murmur')) {
  const ml = rows.find((r) => sys(r) === 'memberlist' && r.n === m.n && r.loss === m.loss);
  if (!ml) continue;
  console.log(`| ${m.n} | ${m.loss} | ${cols.slice(0, 6).map(([c]) => fmt(m[c] / ml[c], 2)).join(' | ')} |`);
}
