// A CliIo for running commands in-process: it records what a command writes, and lets the
// test play the part of the terminal (a stop request, a reader that goes away).

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
  /** The reader of stdout goes away: the next line written fails with EPIPE, as on a closed pipe. */
  readonly closeOutput: () => void;
}

export function recordingIo(opts: RecordingOptions = {}): RecordingIo {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const events = new EventEmitter();
  let closed = false;
  const subscribe = (event: string, listener: (...args: never[]) => void): (() => void) => {
    events.on(event, listener);
    return () => events.removeListener(event, listener);
  };
  return {
    outLines,
    errLines,
    stdoutText: () => outLines.map((l) => `${l}\n`).join(''),
    stderrText: () => errLines.map((l) => `${l}\n`).join(''),
    out: (line) => {
      if (!closed) {
        outLines.push(line);
        return;
      }
      // A stream reports a failed write after the call returns, never during it.
      const e: NodeJS.ErrnoException = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      process.nextTick(() => events.emit('output-error', e));
    },
    err: (line) => void errLines.push(line),
    env: opts.env ?? {},
    stdout: opts.columns === undefined ? { isTTY: false } : { isTTY: true, columns: opts.columns },
    stdin: { isTTY: opts.stdinTTY === true },
    onOutputError: (listener) => subscribe('output-error', listener),
    onSignal: (listener) => subscribe('signal', listener),
    signal: (signal) => events.emit('signal', signal),
    closeOutput: () => {
      closed = true;
    },
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
