// Which timers wake a murmur process, and how often. Loaded ahead of the program with
// `node --require`, it wraps setTimeout and setInterval and counts each callback that runs by
// the place in the code that armed it; every 10 s it writes rates per second, highest first, to
// the file named by TIMER_CENSUS_OUT (default /tmp/timer-census.txt). Each wake-up of an
// otherwise idle process costs about as much as the work it does, so this is where a device's
// floor comes from. Looking up the arming place costs CPU of its own: read the counts from such
// a run, and the CPU from a run without it.
//
//   MURMUR_BENCH_DEVICE_NODE_FLAGS="--require $PWD/scripts/timer-census.cjs" \
//     npm run bench:device -- --nodes 16 --loss 0.1 --steady 30 --warmup 20
//
// Timers armed inside node itself (socket internals) are not seen; datagram reads that end a
// sleep are not timers and are not counted.
'use strict';

const { writeFileSync } = require('node:fs');

const out = process.env.TIMER_CENSUS_OUT || '/tmp/timer-census.txt';
const counts = new Map();
const started = Date.now();
const realSetTimeout = global.setTimeout;
const realSetInterval = global.setInterval;

/** The first stack frame outside this file: who armed the timer. */
function armedBy() {
  const frames = (new Error().stack || '').split('\n').slice(1);
  const frame = frames.find((f) => !f.includes('timer-census.cjs')) || '(unknown)';
  return frame.trim().replace(/^at /, '').replace(/file:\/\/\S*?\/dist\//, '');
}

function counted(kind, real) {
  return function (fn, ...rest) {
    if (typeof fn !== 'function') return real.call(this, fn, ...rest);
    const where = `${kind} ${armedBy()}`;
    return real.call(
      this,
      function (...args) {
        counts.set(where, (counts.get(where) || 0) + 1);
        return fn.apply(this, args);
      },
      ...rest,
    );
  };
}

global.setTimeout = counted('setTimeout', realSetTimeout);
global.setInterval = counted('setInterval', realSetInterval);

realSetInterval(() => {
  const seconds = (Date.now() - started) / 1000;
  const lines = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([where, n]) => `${(n / seconds).toFixed(2)}/s ${where}`);
  writeFileSync(out, `${lines.join('\n')}\n`);
}, 10_000).unref();
