// How this device answers fleet queries (runtime/core/queries.ts): the built-ins, or a
// configured command. A command runs without a shell, with the asker's payload on stdin and the
// query in its environment; it is killed with its process group at its timeout, its output is
// cut at the reply's size, and only a few run at once. An answer is always produced, so a
// broken command costs its asker one error reply and this node nothing.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { uptime as osUptime } from 'node:os';
import { MAX_REPLY_BODY } from '../core/queries.js';
import type { ReplyStatus } from '../core/messages.js';
import { BUILTIN_QUERIES, type QueryCommand } from '../config/queries-config.js';
import type { Logger } from '../log/log.js';

export interface Answer {
  readonly status: ReplyStatus;
  readonly body: string;
}

export interface QueryAnswerDeps {
  readonly queries: Readonly<Record<string, QueryCommand>>;
  readonly version: string;
  /** The effective configuration, hashed for config-hash without the device's own name: devices configured alike have the same hash. */
  readonly config: unknown;
  /** This device's latest sensor readings, key to value. */
  readonly sensors: () => Record<string, unknown>;
  readonly log: Logger;
}

/** Commands running at once; past it a query is answered "busy" (a Pi has little to spare). */
const MAX_RUNNING = 4;
const TRUNCATED = '\n[truncated]';

export class QueryAnswers {
  readonly counters = { answered: 0, commands: 0, failed: 0, timedOut: 0, truncated: 0, busy: 0, unknown: 0 };
  readonly #deps: QueryAnswerDeps;
  readonly #configHash: string;
  #running = 0;

  constructor(deps: QueryAnswerDeps) {
    this.#deps = deps;
    const c = deps.config as { node?: object } | undefined;
    const shared = c?.node ? { ...c, node: { ...c.node, name: null } } : c;
    this.#configHash = createHash('sha256').update(JSON.stringify(shared) ?? '').digest('hex').slice(0, 16);
  }

  /** The answer to query `name`; never rejects. */
  async answer(name: string, payload: Uint8Array, asker: string): Promise<Answer> {
    this.counters.answered++;
    const cmd = Object.hasOwn(this.#deps.queries, name) ? this.#deps.queries[name] : undefined;
    if (cmd) return this.#run(name, cmd, payload, asker);
    switch (name as (typeof BUILTIN_QUERIES)[number]) {
      case 'version':
        return { status: 'ok', body: this.#deps.version };
      case 'uptime':
        return { status: 'ok', body: JSON.stringify({ processS: Math.round(process.uptime()), systemS: Math.round(osUptime()) }) };
      case 'config-hash':
        return { status: 'ok', body: this.#configHash };
      case 'sensors':
        return { status: 'ok', body: sensorsBody(this.#deps.sensors()) };
    }
    this.counters.unknown++;
    return { status: 'unknown', body: `no query "${name}" here (built-ins: ${BUILTIN_QUERIES.join(', ')}; others come from the config's queries)` };
  }

  #run(name: string, q: QueryCommand, payload: Uint8Array, asker: string): Promise<Answer> {
    if (this.#running >= MAX_RUNNING) {
      this.counters.busy++;
      this.#deps.log.log('warn', 'query-busy', { query: name, asker, running: this.#running });
      return Promise.resolve({ status: 'error', body: `busy: ${this.#running} query commands already running` });
    }
    this.#running++;
    this.counters.commands++;
    return runBounded(q, payload, { MURMUR_QUERY_NAME: name, MURMUR_QUERY_ASKER: asker }).then((r) => {
      this.#running--;
      if (r.timedOut) this.counters.timedOut++;
      if (r.truncated) this.counters.truncated++;
      if (r.status !== 'ok') {
        this.counters.failed++;
        this.#deps.log.log('warn', 'query-command-failed', { query: name, asker, error: r.body.slice(0, 200) });
      }
      return { status: r.status, body: r.body };
    });
  }
}

interface RunResult extends Answer {
  readonly timedOut: boolean;
  readonly truncated: boolean;
}

/** Run a query's command: no shell, payload on stdin, output bounded, killed with its group at the timeout. */
export function runBounded(q: QueryCommand, payload: Uint8Array, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    const [program, ...args] = q.command as [string, ...string[]];
    let out = Buffer.alloc(0);
    let err = '';
    let truncated = false;
    let timedOut = false;
    let done = false;
    let child: ReturnType<typeof spawn>;
    const finish = (r: Omit<RunResult, 'timedOut' | 'truncated'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, timedOut, truncated });
    };
    // Its own process group, so the timeout kills whatever it started too.
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      finish({ status: 'error', body: `${program}: no answer within ${q.timeoutMs} ms (killed)` });
    }, q.timeoutMs);
    try {
      child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
    } catch (e) {
      finish({ status: 'error', body: `${program}: ${(e as Error).message}` });
      return;
    }
    child.on('error', (e: NodeJS.ErrnoException) => finish({ status: 'error', body: e.code === 'ENOENT' ? `${program}: not installed` : `${program}: ${e.message}` }));
    child.stdout!.on('data', (d: Buffer) => {
      if (out.length > MAX_REPLY_BODY) return;
      out = Buffer.concat([out, d]);
      if (out.length > MAX_REPLY_BODY) {
        // Enough to answer with: stop a flood of output here rather than read it all.
        truncated = true;
        killGroup();
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < MAX_REPLY_BODY) err += d;
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(Buffer.from(payload));
    child.on('close', (code, signal) => {
      if (truncated) return finish({ status: 'ok', body: cut(out.subarray(0, MAX_REPLY_BODY - TRUNCATED.length).toString('utf8')) + TRUNCATED });
      if (code === 0) return finish({ status: 'ok', body: cut(out.toString('utf8')) });
      const said = (err.trim() || out.toString('utf8').trim()).slice(0, 300);
      finish({ status: 'error', body: `${program}: ${code === null ? `killed by ${signal}` : `exit ${code}`}${said ? `: ${said}` : ''}` });
    });
  });
}

/** Text within the reply's size in UTF-8 (a multi-byte character is never split). */
function cut(s: string): string {
  let b = Buffer.from(s, 'utf8');
  if (b.length <= MAX_REPLY_BODY) return s;
  b = b.subarray(0, MAX_REPLY_BODY);
  return b.toString('utf8').replace(/\uFFFD+$/, '');
}

/** Readings as compact JSON, as many as fit the reply, then how many more there were. */
export function sensorsBody(readings: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(readings).sort();
  for (const [i, k] of keys.entries()) {
    const next = { ...out, [k]: readings[k] };
    const more = keys.length - i - 1;
    if (Buffer.byteLength(JSON.stringify(more > 0 ? { ...next, more } : next)) > MAX_REPLY_BODY - 16) {
      return JSON.stringify({ ...out, more: keys.length - i });
    }
    out[k] = readings[k];
  }
  return JSON.stringify(out);
}
