// The murmur command line. `main` takes its arguments and streams, so tests run it in-process.

import { CliError, type CliIo } from './io.js';

const help = `usage: murmur <command> [options]

commands:
  start    run this device's node (UDP multicast and unicast, local API)
  keys     the fleet keyring: generate, list, install, use, remove (fleet-wide)
  sim      run a simulated fleet in virtual time and watch it (no network needed)
  admin    fleet admin key: provision devices, sign certificates, revoke
  identify make a device's status LED strobe, to find it in a rack
  sensors  sensor readings: this device's, or aggregated across the fleet
  help     show this help

Run "murmur <command> --help" for a command's options. See README.md.`;

export function main(argv: readonly string[], io: CliIo): number | Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      // Commands load their modules on demand: a device running `start` for months should not
      // carry the simulator in memory (about 10 MB of resident code).
      case 'sim':
        return import('./sim-command.js').then((m) => m.simCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'keys':
        return import('./keys-command.js').then((m) => m.keysCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'start':
        return import('./start-command.js').then((m) => m.startCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'identify':
        return import('./identify-command.js').then((m) => m.identifyCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'sensors':
        return import('./sensors-command.js').then((m) => m.sensorsCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'admin':
        return import('./admin-command.js').then((m) => m.adminCommand(rest, io)).catch((e: unknown) => fail(e, io));
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
    return fail(e, io);
  }
}

function fail(e: unknown, io: CliIo): number {
  if (e instanceof CliError) {
    if (e.code === 0) io.out(e.message);
    else io.err(e.message);
    return e.code;
  }
  throw e;
}
