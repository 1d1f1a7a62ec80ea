// The io of the real binary: this process's streams, environment and signals.

import { isatty } from 'node:tty';
import type { CliIo, StopSignal } from './io.js';

export function processIo(p: NodeJS.Process = process): CliIo {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: p.env,
    stdout: p.stdout,
    // isatty, not p.stdin: opening the stdin stream only to ask would be wasted on every command.
    stdin: { isTTY: isatty(0) },
    onOutputError: (listener) => {
      p.stdout.on('error', listener);
      return () => p.stdout.removeListener('error', listener);
    },
    // Subscribed only while a command listens: installing a handler replaces the default,
    // which would leave a short command running after Ctrl-C.
    onSignal: (listener) => {
      const handler = (signal: StopSignal): void => listener(signal);
      p.on('SIGINT', handler);
      p.on('SIGTERM', handler);
      return () => {
        p.removeListener('SIGINT', handler);
        p.removeListener('SIGTERM', handler);
      };
    },
    // Listened to only while a node runs: without a listener SIGHUP ends a process, as it should a short command.
    onReload: (listener) => {
      const handler = (): void => listener();
      p.on('SIGHUP', handler);
      return () => p.removeListener('SIGHUP', handler);
    },
  };
}
