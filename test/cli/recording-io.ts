// A CliIo for running commands in-process: it records what a command writes, and lets the
// test send the stop requests a terminal or a service manager would.

import { EventEmitter } from 'node:events';
import type { CliIo, StopSignal } from '../../runtime/cli/io.js';
import { main } from '../../runtime/cli/main.js';

export interface RecordingOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** stdout is a terminal this wide; by default it is a pipe. */
  readonly columns?: number;
  /** stdin is a terminal (a person started the command); by default it is not. */
  readonly stdinTTY?: boolean;
}

export interface RecordingIo extends CliIo {
  /** Lines written to stdout, as they came. */
  readonly outLines: string[];
  readonly errLines: string[];
  /** stdout and stderr as a process would have written them: each line ends with "\n". */
  readonly stdoutText: () => string;
  readonly stderrText: () => string;
  /** Delivers a stop request as the process would; false when no command was listening (the process would have died). */
  readonly signal: (signal: StopSignal) => boolean;
}

export function recordingIo(opts: RecordingOptions = {}): RecordingIo {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const events = new EventEmitter();
  return {
    outLines,
    errLines,
    stdoutText: () => outLines.map((l) => `${l}\n`).join(''),
    stderrText: () => errLines.map((l) => `${l}\n`).join(''),
    out: (line) => void outLines.push(line),
    err: (line) => void errLines.push(line),
    env: opts.env ?? {},
    stdout: opts.columns === undefined ? { isTTY: false } : { isTTY: true, columns: opts.columns },
    stdin: { isTTY: opts.stdinTTY === true },
    onOutputError: (listener) => {
      events.on('output-error', listener);
      return () => events.removeListener('output-error', listener);
    },
    onSignal: (listener) => {
      events.on('signal', listener);
      return () => events.removeListener('signal', listener);
    },
    signal: (signal) => events.emit('signal', signal),
  };
}

export interface Run {
  readonly code: number;
  /** stdout as the process would have written it. */
  readonly out: string;
  readonly err: string;
}

/** Runs one command in-process to its end. */
export async function run(argv: readonly string[], opts: RecordingOptions = {}): Promise<Run> {
  const io = recordingIo(opts);
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

export interface Started {
  readonly io: RecordingIo;
  /** The exit code, once the command ends. */
  readonly exited: Promise<number>;
}

/** Starts a command in-process that runs until it is stopped, as `start` and `watch` do. */
export function begin(argv: readonly string[], opts: RecordingOptions = {}): Started {
  const io = recordingIo(opts);
  return { io, exited: Promise.resolve(main(argv, io)) };
}

/** Poll `f` every 50 ms until it returns something, or fail naming `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
