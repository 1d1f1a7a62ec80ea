#!/usr/bin/env node
// Fails when the sans-IO protocol core reaches for the outside world: node:* modules, the wall
// clock, ambient randomness or real timers. The simulator's determinism depends on it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../runtime/core/', import.meta.url).pathname;
const rules = [
  [/from\s+['"](node:|fs|path|dgram|net|os|child_process|timers)['"/]/, 'imports a Node.js module'],
  [/import\s*\(\s*['"]node:/, 'imports a Node.js module dynamically'],
  [/\bDate\.now\s*\(|\bnew Date\s*\(/, 'reads the wall clock'],
  [/\bperformance\.now\s*\(/, 'reads the clock'],
  [/\bMath\.random\s*\(/, 'uses ambient randomness'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'schedules real timers'],
  [/\bprocess\./, 'touches the process'],
];

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

let bad = 0;
for (const f of files(root)) {
  const lines = readFileSync(f, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    for (const [re, why] of rules) {
      if (re.test(code)) {
        console.error(`${f}:${i + 1}: runtime/core ${why}: ${line.trim()}`);
        bad++;
      }
    }
  });
}
if (bad > 0) {
  console.error(`check-core-purity: ${bad} violation(s); the core must stay sans-IO`);
  process.exit(1);
}
console.log('check-core-purity: runtime/core is sans-IO');
