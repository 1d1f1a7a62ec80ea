// One run of a hook's command: its own process group (so a timeout kills whatever it started
// too), the event on stdin and in the environment, its output read line by line up to a bound.
// Nothing a hook does can throw into the node: every failure ends as a HookRunResult.

import { spawn } from 'node:child_process';

/** Output read from one run; past it the pipes are closed (a writer gets EPIPE) and the rest is not read. */
export const MAX_OUTPUT_BYTES = 64 * 1024;
/** Lines of one run that reach the log; past it they are counted, not logged. */
export const MAX_LOGGED_LINES = 20;
/** A logged line is cut here: one hook line must not become a megabyte log line. */
export const MAX_LINE_CHARS = 500;
/** After the timeout's SIGTERM, how long the group has before SIGKILL. */
export const KILL_GRACE_MS = 2000;

export interface HookSpawn {
  readonly command: readonly string[];
  readonly shell: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
  readonly timeoutMs: number;
  readonly onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Aborted when the node stops: the run's group is ended as at a timeout. */
  readonly signal?: AbortSignal;
}

export interface HookRunResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** The process could not be started (ENOENT, EACCES): its message. */
  readonly spawnError: string | undefined;
  readonly durationMs: number;
  /** Lines not logged and bytes not read because the run passed the output bounds. */
  readonly droppedLines: number;
  readonly truncated: boolean;
}

export function runHookProcess(s: HookSpawn): Promise<HookRunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const [file, ...args] = s.shell ? ['/bin/sh', '-c', s.command[0]!] : s.command;
    let child;
    try {
      // detached: a process group of its own, so a timeout reaches the hook's children too.
      child = spawn(file!, args, { env: s.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      resolve({ code: null, signal: null, timedOut: false, spawnError: (e as Error).message, durationMs: 0, droppedLines: 0, truncated: false });
      return;
    }
    let spawnError: string | undefined;
    let timedOut = false;
    let bytes = 0;
    let logged = 0;
    let droppedLines = 0;
    let truncated = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const end = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      end();
    }, s.timeoutMs);
    s.signal?.addEventListener('abort', end, { once: true });
    const line = (stream: 'stdout' | 'stderr', text: string): void => {
      if (logged >= MAX_LOGGED_LINES) {
        droppedLines++;
        return;
      }
      logged++;
      s.onLine(stream, text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}...` : text);
    };
    const reader = (stream: 'stdout' | 'stderr', r: NodeJS.ReadableStream & { destroy(): void }): void => {
      let pending = '';
      r.on('data', (chunk: Buffer) => {
        if (truncated) return;
        bytes += chunk.length;
        pending += chunk.toString('utf8');
        const parts = pending.split('\n');
        pending = parts.pop()!;
        for (const p of parts) line(stream, p);
        // An unterminated flood is cut too, not held whole in memory.
        if (pending.length > MAX_LINE_CHARS * 4) {
          line(stream, pending);
          pending = '';
        }
        if (bytes > MAX_OUTPUT_BYTES) {
          truncated = true;
          child.stdout?.destroy();
          child.stderr?.destroy();
        }
      });
      r.on('end', () => {
        if (pending !== '' && !truncated) line(stream, pending);
      });
      r.on('error', () => {});
    };
    reader('stdout', child.stdout!);
    reader('stderr', child.stderr!);
    // A hook that does not read its stdin (or exits first) must not raise EPIPE in the node.
    child.stdin!.on('error', () => {});
    child.stdin!.end(s.stdin);
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      s.signal?.removeEventListener('abort', end);
      // A hook's leftover children (it exited, they did not) go with it when it was ended.
      if (timedOut || s.signal?.aborted) killGroup('SIGKILL');
      resolve({ code, signal, timedOut, spawnError, durationMs: Math.round(performance.now() - started), droppedLines, truncated });
    });
  });
}
