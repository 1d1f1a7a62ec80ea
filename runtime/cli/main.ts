// The murmur command line. `main` takes its arguments and streams, so tests run it in-process.

import { CliError, type CliIo } from './io.js';
import { simCommand } from './sim-command.js';

const help = `usage: murmur <command> [options]

commands:
  sim      run a simulated fleet in virtual time and watch it (no network needed)
  help     show this help

The UDP node agent (murmur start), the local API and the other commands arrive with
later issues; see README.md.`;

export function main(argv: readonly string[], io: CliIo): number {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'sim':
        return simCommand(rest, io);
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        io.out(help);
        return 0;
      default:
        throw new CliError(`murmur: unknown command "${cmd}"\n${help}`);
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(e.message);
      return e.code;
    }
    throw e;
  }
}
