// The process's own figures: CPU, resident memory, heap and event-loop lag, under the names
// prom-client's default metrics use (so existing Node.js dashboards read them). Not prom-client's
// default set itself: it lists every active handle and the open file descriptors on each scrape,
// samples the event loop 100 times a second, and names three gauges "_total", which promtool
// refuses. These are read from process.memoryUsage(), process.cpuUsage() and one event-loop
// delay histogram sampled ten times a second.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * How often the event loop's delay is sampled: a timer this often. Lag worth alerting on (a
 * node missing its heartbeats) is hundreds of ms; finer sampling would wake a Pi Zero for nothing.
 */
const LAG_RESOLUTION_MS = 100;

/** Registers the process metrics in `r`; the returned function stops the lag monitor. */
export function processMetrics(r: Registry): () => void {
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const startedAt = Math.round(Date.now() / 1000 - process.uptime());
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'CPU time this process has used, user and system.',
    registers: [r],
    collect() {
      const c = process.cpuUsage();
      this.reset();
      this.inc((c.user + c.system) / 1e6);
    },
  });
  new Gauge({ name: 'process_start_time_seconds', help: 'When this process started, in unix seconds.', registers: [r], collect() { this.set(startedAt); } });
  let memory = process.memoryUsage();
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of this process.',
    registers: [r],
    collect() {
      // Read once per scrape, here, for this gauge and the heap gauges after it.
      memory = process.memoryUsage();
      this.set(memory.rss);
    },
  });
  new Gauge({ name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use.', registers: [r], collect() { this.set(memory.heapUsed); } });
  new Gauge({ name: 'nodejs_heap_size_total_bytes', help: 'V8 heap reserved.', registers: [r], collect() { this.set(memory.heapTotal); } });
  new Gauge({ name: 'nodejs_external_memory_bytes', help: 'Memory of objects outside the V8 heap (buffers).', registers: [r], collect() { this.set(memory.external); } });
  const lagGauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [r], collect() { this.set(read() / 1e9); } });
  };
  // Read in this order on a scrape; the last one resets the histogram, so each scrape covers the time since the previous one.
  const since = 'since the previous scrape, sampled every 100 ms';
  lagGauge('nodejs_eventloop_lag_mean_seconds', `Mean event-loop delay ${since}.`, () => (lag.count > 0 ? lag.mean : 0));
  lagGauge('nodejs_eventloop_lag_p99_seconds', `99th percentile of the event-loop delay ${since}.`, () => (lag.count > 0 ? lag.percentile(99) : 0));
  lagGauge('nodejs_eventloop_lag_max_seconds', `Longest event-loop delay ${since}.`, () => {
    const max = lag.count > 0 ? lag.max : 0;
    lag.reset();
    return max;
  });
  return () => lag.disable();
}
