// Event hooks: configured commands run on membership and key events.
//
// Each hook collects its events into a batch: the first event opens a window of coalesceMs and
// everything that arrives in it goes to the same run (40 devices lost behind a partition are one
// run with 40 events, not 40 processes). A hook has at most one run at a time; events that come
// while it runs open the next batch. Runs across all hooks are bounded by hooks.concurrency, and
// a batch is bounded too (MAX_BATCH_EVENTS; the rest are counted as dropped). So a hook can slow
// only itself: the node's event path only appends to an array.

import type { CoreEvent } from '../../core/effects.js';
import type { HookConfig, HookEvent, HooksConfig } from '../../config/hooks-config.js';
import { jsonText } from '../../log/escape.js';
import type { Logger } from '../../log/log.js';
import { hookEventOf, type HookEventRecord } from './hook-event.js';
import { MAX_OUTPUT_BYTES, runHookProcess, type HookRunResult } from './hook-process.js';

/** Events one run carries; a burst beyond it is counted in the run's `dropped`. */
export const MAX_BATCH_EVENTS = 256;
/** Output lines per hook per minute that reach the log, across runs. */
export const MAX_LINES_PER_MINUTE = 100;
/** Members named in MURMUR_MEMBERS (the environment has a size limit; stdin has them all). */
const MAX_ENV_MEMBERS = 64;

export interface HookCounters {
  runs: number;
  ok: number;
  /** Exited non-zero or by a signal other than the timeout's. */
  failed: number;
  timedOut: number;
  /** Could not be started at all (no such program, not executable). */
  spawnFailed: number;
  outputTruncated: number;
  linesDropped: number;
  eventsDropped: number;
}

export interface HookTestResult {
  readonly hook: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly error: string | undefined;
  readonly durationMs: number;
  readonly output: readonly string[];
}

interface HookState {
  readonly config: HookConfig;
  batch: HookEventRecord[];
  dropped: number;
  timer: NodeJS.Timeout | undefined;
  ready: boolean;
  running: boolean;
  lineWindow: { from: number; lines: number; dropped: number };
  readonly counters: HookCounters;
}

export interface HooksDeps {
  readonly log: Logger;
  readonly self: () => string;
  readonly wallClock?: () => number;
  /** Environment every hook starts from (PATH and locale; not the node's whole environment). */
  readonly baseEnv?: Readonly<Record<string, string>>;
}

export class Hooks {
  readonly #hooks: HookState[];
  readonly #config: HooksConfig;
  readonly #deps: HooksDeps;
  readonly #queue: HookState[] = [];
  #active = 0;
  #stopped = false;
  /** Ends every run in progress when the node stops: a hook must not outlive its timeout's owner. */
  readonly #abort = new AbortController();

  constructor(config: HooksConfig, deps: HooksDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#hooks = config.commands.map((c) => ({
      config: c,
      batch: [],
      dropped: 0,
      timer: undefined,
      ready: false,
      running: false,
      lineWindow: { from: 0, lines: 0, dropped: 0 },
      counters: { runs: 0, ok: 0, failed: 0, timedOut: 0, spawnFailed: 0, outputTruncated: 0, linesDropped: 0, eventsDropped: 0 },
    }));
  }

  get size(): number {
    return this.#hooks.length;
  }

  /** From the core's event path: never throws, never waits. */
  observe(e: CoreEvent): void {
    if (this.#hooks.length === 0 || this.#stopped) return;
    try {
      const rec = hookEventOf(e, this.#now());
      if (rec) this.fire(rec);
    } catch (err) {
      this.#deps.log.log('error', 'internal-error', { where: 'hooks', error: (err as Error).message });
    }
  }

  /** Adds `rec` to the batch of every hook that wants it. */
  fire(rec: HookEventRecord): void {
    for (const h of this.#hooks) {
      if (!wants(h.config, rec)) continue;
      if (h.batch.length >= MAX_BATCH_EVENTS) {
        h.dropped++;
        h.counters.eventsDropped++;
        continue;
      }
      h.batch.push(rec);
      if (h.timer === undefined && !h.ready) {
        h.timer = setTimeout(() => {
          h.timer = undefined;
          h.ready = true;
          this.#queue.push(h);
          this.#pump();
        }, h.config.coalesceMs);
        h.timer.unref();
      }
    }
  }

  /**
   * `murmur hooks test EVENT`: runs every hook that names `event` once, now, with one made-up
   * event, and returns what each did. Still bounded by the timeout; not by coalescing.
   */
  async test(event: HookEvent, fields: { member?: string | undefined; key?: string | undefined; value?: unknown }): Promise<HookTestResult[]> {
    const self = this.#deps.self();
    const isKey = event === 'key-changed';
    const rec: HookEventRecord = isKey
      ? { event, at: this.#now(), owner: self, key: fields.key ?? '', value: fields.value ?? null, version: 0 }
      : { event, at: this.#now(), member: fields.member ?? self, gen: 0, status: statusOf(event), previous: event === 'member-alive-again' ? 'dead' : 'alive' };
    const chosen = this.#hooks.filter((h) => h.config.events.includes(event) && (!isKey || fields.key === undefined || wants(h.config, rec)));
    return Promise.all(
      chosen.map(async (h) => {
        const output: string[] = [];
        const r = await this.#run(h, [rec], 0, (stream, line) => output.push(`${stream}: ${line}`));
        return { hook: h.config.name, code: r.code, signal: r.signal, timedOut: r.timedOut, error: r.spawnError, durationMs: r.durationMs, output };
      }),
    );
  }

  /** Per-hook counters, for /v1/status. */
  view(): Record<string, HookCounters & { pending: number; running: boolean }> {
    const out: Record<string, HookCounters & { pending: number; running: boolean }> = {};
    for (const h of this.#hooks) out[h.config.name] = { ...h.counters, pending: h.batch.length, running: h.running };
    return out;
  }

  stop(): void {
    this.#stopped = true;
    for (const h of this.#hooks) if (h.timer) clearTimeout(h.timer);
    this.#abort.abort();
  }

  #pump(): void {
    while (!this.#stopped && this.#active < this.#config.concurrency) {
      const i = this.#queue.findIndex((h) => !h.running);
      if (i < 0) return;
      const h = this.#queue.splice(i, 1)[0]!;
      const batch = h.batch;
      const dropped = h.dropped;
      h.batch = [];
      h.dropped = 0;
      h.ready = false;
      h.running = true;
      this.#active++;
      void this.#run(h, batch, dropped).finally(() => {
        h.running = false;
        this.#active--;
        this.#pump();
      });
    }
  }

  async #run(h: HookState, events: readonly HookEventRecord[], dropped: number, capture?: (stream: string, line: string) => void): Promise<HookRunResult> {
    const c = h.config;
    const log = this.#deps.log;
    h.counters.runs++;
    let r: HookRunResult;
    try {
      r = await runHookProcess({
        command: c.command,
        shell: c.shell,
        env: this.#env(c, events, dropped),
        stdin: `${jsonText({ hook: c.name, node: this.#deps.self(), events, dropped })}\n`,
        timeoutMs: c.timeoutS * 1000,
        signal: this.#abort.signal,
        onLine: (stream, line) => {
          capture?.(stream, line);
          if (this.#lineAllowed(h)) log.log('info', 'hook-output', { hook: c.name, stream, line });
          else h.counters.linesDropped++;
        },
      });
    } catch (e) {
      r = { code: null, signal: null, timedOut: false, spawnError: (e as Error).message, durationMs: 0, droppedLines: 0, truncated: false };
    }
    h.counters.linesDropped += r.droppedLines;
    const fields = { hook: c.name, events: events.length, dropped: dropped || undefined, ms: r.durationMs };
    if (r.truncated || r.droppedLines > 0) {
      if (r.truncated) h.counters.outputTruncated++;
      log.log('warn', 'hook-output-truncated', { hook: c.name, lines_not_logged: r.droppedLines, cut: r.truncated ? `output past ${MAX_OUTPUT_BYTES / 1024} KiB not read; its pipes were closed` : undefined });
    }
    if (r.spawnError !== undefined) {
      h.counters.spawnFailed++;
      log.log('error', 'hook-failed', { ...fields, error: r.spawnError, command: c.command[0], failures: h.counters.spawnFailed + h.counters.failed + h.counters.timedOut });
    } else if (r.timedOut) {
      h.counters.timedOut++;
      log.log('warn', 'hook-timeout', { ...fields, timeout_s: c.timeoutS, killed: 'process group', timeouts: h.counters.timedOut });
    } else if (r.code !== 0) {
      h.counters.failed++;
      log.log('warn', 'hook-failed', { ...fields, code: r.code ?? undefined, signal: r.signal ?? undefined, failures: h.counters.spawnFailed + h.counters.failed + h.counters.timedOut });
    } else {
      h.counters.ok++;
      log.log('info', 'hook-ran', fields);
    }
    return r;
  }

  /** A hook's share of the log: MAX_LINES_PER_MINUTE, whatever its runs print. */
  #lineAllowed(h: HookState): boolean {
    const now = performance.now();
    const w = h.lineWindow;
    if (now - w.from >= 60_000) {
      if (w.dropped > 0) this.#deps.log.log('warn', 'hook-output-dropped', { hook: h.config.name, lines: w.dropped, per_minute: MAX_LINES_PER_MINUTE });
      w.from = now;
      w.lines = 0;
      w.dropped = 0;
    }
    if (w.lines >= MAX_LINES_PER_MINUTE) {
      w.dropped++;
      return false;
    }
    w.lines++;
    return true;
  }

  #env(c: HookConfig, events: readonly HookEventRecord[], dropped: number): Record<string, string> {
    const first = events[0]!;
    const members = [...new Set(events.flatMap((e) => (e.member === undefined ? [] : [e.member])))];
    const env: Record<string, string> = {
      ...(this.#deps.baseEnv ?? baseEnv()),
      MURMUR_HOOK: c.name,
      MURMUR_NODE: this.#deps.self(),
      MURMUR_EVENT: first.event,
      MURMUR_EVENTS: [...new Set(events.map((e) => e.event))].join(','),
      MURMUR_COUNT: String(events.length + dropped),
      MURMUR_MEMBERS: members.slice(0, MAX_ENV_MEMBERS).join(','),
    };
    const put = (name: string, v: unknown): void => {
      if (v === undefined) return;
      env[name] = typeof v === 'string' ? v : jsonText(v);
    };
    put('MURMUR_MEMBER', first.member);
    put('MURMUR_STATUS', first.status);
    put('MURMUR_PREVIOUS', first.previous);
    put('MURMUR_OWNER', first.owner);
    put('MURMUR_KEY', first.key);
    if (first.event === 'key-changed') put('MURMUR_VALUE', jsonText(first.value ?? null));
    // Ids, keys and values come from the fleet; a NUL would make the spawn itself throw.
    for (const k of Object.keys(env)) env[k] = env[k]!.replace(/\0/g, '\\u0000');
    return env;
  }

  #now(): string {
    return new Date((this.#deps.wallClock ?? Date.now)()).toISOString();
  }
}

function wants(c: HookConfig, rec: HookEventRecord): boolean {
  if (!c.events.includes(rec.event)) return false;
  return rec.event !== 'key-changed' || (rec.key !== undefined && rec.key.startsWith(c.prefix ?? ''));
}

function statusOf(event: HookEvent): string {
  return event === 'member-failed' ? 'dead' : event === 'member-left' ? 'left' : event === 'member-unreliable' ? 'unreliable' : 'alive';
}

function baseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME']) if (process.env[k] !== undefined) out[k] = process.env[k]!;
  out.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return out;
}
