// Stands in for gpioset/gpioget/gpiodetect/vcgencmd: answers from a table and records every
// command line and every line fed to a session, so tests can check what a driver would run.

import type { CommandResult, CommandRunner, CommandSession, SessionOptions } from '../../hal/command.js';

type Answer = CommandResult | ((args: readonly string[]) => CommandResult);

export class FakeCommands implements CommandRunner {
  readonly calls: string[] = [];
  readonly sessions: FakeSession[] = [];
  readonly #answers = new Map<string, Answer>();

  /** `cmd` answers `answer`; an unknown command behaves as not installed (127). */
  on(cmd: string, answer: Answer): this {
    this.#answers.set(cmd, answer);
    return this;
  }

  run(cmd: string, args: readonly string[]): Promise<CommandResult> {
    this.calls.push([cmd, ...args].join(' '));
    const a = this.#answers.get(cmd);
    if (!a) return Promise.resolve({ code: 127, stdout: '', stderr: `${cmd}: not installed` });
    return Promise.resolve(typeof a === 'function' ? a(args) : a);
  }

  start(cmd: string, args: readonly string[], options: SessionOptions = {}): CommandSession {
    this.calls.push([cmd, ...args].join(' '));
    const s = new FakeSession(cmd, args, this.#answers.has(cmd), options.lastLine);
    this.sessions.push(s);
    return s;
  }
}

export class FakeSession implements CommandSession {
  readonly lines: string[] = [];
  closed = false;
  #listener: ((code: number, stderr: string) => void) | undefined;
  #exit: { code: number; stderr: string } | undefined;

  constructor(
    readonly cmd: string,
    readonly args: readonly string[],
    installed: boolean,
    /** What the runner would feed the command once its stdin ends. */
    readonly lastLine: string | undefined,
  ) {
    if (!installed) this.#exit = { code: 127, stderr: `${cmd}: not installed` };
  }

  write(line: string): void {
    if (!this.#exit && !this.closed) this.lines.push(line.replace(/\n$/, ''));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  onExit(listener: (code: number, stderr: string) => void): void {
    this.#listener = listener;
    if (this.#exit) listener(this.#exit.code, this.#exit.stderr);
  }

  /** The process dies on its own (line taken by another program, chip gone). */
  die(code: number, stderr: string): void {
    this.#exit = { code, stderr };
    this.#listener?.(code, stderr);
  }
}
