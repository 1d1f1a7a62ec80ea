// The few drivers that shell out (libgpiod's gpioset/gpioget, vcgencmd) go through a
// CommandRunner, so tests can stand in for tools this machine does not have and check the
// exact command lines a driver would run on a Pi.

import { execFile, spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A long-running command fed lines on stdin (libgpiod v2 `gpioset --interactive`). */
export interface CommandSession {
  write(line: string): void;
  /** Ends stdin and waits for the process to exit. */
  close(): Promise<void>;
  /** Called once if the process exits on its own (or fails to start), with what it said. */
  onExit(listener: (code: number, stderr: string) => void): void;
}

export interface SessionOptions {
  /**
   * A line the command is given when its stdin ends, however it ends: a clean close, or murmur
   * killed outright. libgpiod v2's `gpioset --interactive` ignores end of input and would spin
   * on, holding its GPIO line, after murmur died; told "exit", it releases the line and quits.
   */
  readonly lastLine?: string;
}

export interface CommandRunner {
  /** Runs to completion. A missing program is code 127 with the reason in stderr, not a throw. */
  run(cmd: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
  start(cmd: string, args: readonly string[], options?: SessionOptions): CommandSession;
}

const DEFAULT_TIMEOUT_MS = 5000;

export class SystemCommands implements CommandRunner {
  run(cmd: string, args: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CommandResult> {
    return new Promise((resolve) => {
      try {
        this.#exec(cmd, args, timeoutMs, resolve);
      } catch (e) {
        resolve({ code: 127, stdout: '', stderr: `${cmd}: ${(e as Error).message}` });
      }
    });
  }

  #exec(cmd: string, args: readonly string[], timeoutMs: number, resolve: (r: CommandResult) => void): void {
    execFile(cmd, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (e.code === 'ENOENT') return resolve({ code: 127, stdout: '', stderr: `${cmd}: not installed` });
      if (e.killed) return resolve({ code: 124, stdout, stderr: `${cmd}: no answer within ${timeoutMs} ms` });
      resolve({ code: typeof e.code === 'number' ? e.code : 1, stdout, stderr: stderr || e.message });
    });
  }

  start(cmd: string, args: readonly string[], options: SessionOptions = {}): CommandSession {
    let child;
    try {
      // With a last line, a shell sits between: cat copies murmur's lines until the pipe from
      // murmur closes (the kernel closes it even on SIGKILL), then the last line follows.
      child =
        options.lastLine === undefined
          ? spawn(cmd, [...args], { stdio: ['pipe', 'ignore', 'pipe'] })
          : spawn('sh', ['-c', '{ cat; printf "%s\\n" "$MURMUR_LAST_LINE"; } | "$@"', 'sh', cmd, ...args], {
              stdio: ['pipe', 'ignore', 'pipe'],
              env: { ...process.env, MURMUR_LAST_LINE: options.lastLine },
            });
    } catch (e) {
      // spawn throws at once for some errors (ENOMEM on a small Pi); it must not reach a timer callback.
      return exitedSession(127, `${cmd}: ${(e as Error).message}`);
    }
    let stderr = '';
    let listener: ((code: number, stderr: string) => void) | undefined;
    let exited: { code: number } | undefined;
    const done = new Promise<void>((resolve) => {
      const finish = (code: number): void => {
        if (exited) return;
        exited = { code };
        listener?.(code, stderr.trim());
        resolve();
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        stderr += e.code === 'ENOENT' ? `${cmd}: not installed` : e.message;
        finish(127);
      });
      // 'close', not 'exit': stderr is complete only once the pipes are closed.
      child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    // A write after the process died must not crash murmur; the exit listener reports it.
    child.stdin.on('error', () => {});
    return {
      write: (line) => {
        if (!exited) child.stdin.write(line.endsWith('\n') ? line : `${line}\n`);
      },
      close: async () => {
        if (!exited) child.stdin.end();
        const t = setTimeout(() => child.kill('SIGTERM'), 2000);
        await done;
        clearTimeout(t);
      },
      onExit: (l) => {
        listener = l;
        if (exited) l(exited.code, stderr.trim());
      },
    };
  }
}

/** A session whose process never ran: reports its exit to whoever listens, ignores writes. */
function exitedSession(code: number, stderr: string): CommandSession {
  return {
    write: () => {},
    close: () => Promise.resolve(),
    onExit: (l) => l(code, stderr),
  };
}
