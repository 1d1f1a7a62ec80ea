// Everything a command takes from its process: streams, terminal, environment and stop
// requests. Commands read none of it from `process`, so a test runs them in-process with a
// recording io (and several at once, each with its own); bin.ts builds the real one.

/** What standard output is: a terminal (and how wide) or a pipe or file. */
export interface OutputStream {
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** A request to stop: Ctrl-C at a terminal, or a service manager's stop. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Stops the calls to a listener given to `onOutputError` or `onSignal`. */
export type Unsubscribe = () => void;

export interface CliIo {
  /** Writes one line to standard output. */
  readonly out: (line: string) => void;
  /** Writes one line to standard error. */
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: OutputStream;
  /** Standard input; a service manager gives a long-running command no terminal there. */
  readonly stdin: { readonly isTTY?: boolean | undefined };
  /** Calls `listener` when standard output fails, e.g. with EPIPE once the reader of a pipe is gone. */
  readonly onOutputError: (listener: (e: NodeJS.ErrnoException) => void) => Unsubscribe;
  /**
   * Calls `listener` on each stop request. While nothing listens, a stop request ends the
   * process as usual, so a short command needs no listener to be stopped.
   */
  readonly onSignal: (listener: (signal: StopSignal) => void) => Unsubscribe;
  /**
   * Calls `listener` on each reload request (SIGHUP, from `systemctl reload`). Absent: the io
   * has no way to ask for a reload (a test's recording io).
   */
  readonly onReload?: (listener: () => void) => Unsubscribe;
}

/** A usage or input error: printed without a stack trace, exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message);
  }
}
