// The murmur command line. `main` takes its arguments and its io (io.ts), so tests run it in-process.

import { CliError, type CliIo } from './io.js';
import { murmurVersion } from './version.js';
import { didYouMean } from './suggest.js';

const help = `usage: murmur <command> [options]

commands:
  start    run this device's node (UDP multicast and unicast, local API)
  status   this node at a glance: address, health, members, LED, memory
  members  the other devices known here, with status (--explain: suspicions)
  get      print a key's value (this device's or --device ID's); no KEY: all
  set      publish one of this device's keys: murmur set KEY VALUE [--ttl 30s]
  del      delete one of this device's keys
  watch    print key and member changes as they happen, until Ctrl-C
  query    ask every device a question and print the answers as they come
  agg      one key's numeric values across the fleet: count, min, mean, max
  leds     leds test: play the status LED patterns
  keys     the fleet keyring: generate, list, install, use, remove (fleet-wide)
  sim      run a simulated fleet in virtual time and watch it (no network)
  admin    fleet admin key: provision devices, sign certificates, revoke
  identify make a device's status LED strobe, to find it in a rack
  hooks    hooks test EVENT: run the configured event hooks once, now
  sensors  sensor readings: this device's, or aggregated across the fleet
  config   check a device config file, or show the effective config
  provision write per-device files for flashing a fleet (names list, fleet key)
  help     show this help (--version: murmur's version)

Run "murmur <command> --help" for a command's options. See README.md.

exit codes: 0 done, 1 the node refused (its message is printed), 2 usage,
3 the local node is not running, 4 not found (key, device, sensor, fleet key),
78 bad config.`;

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
      case 'hooks':
        return import('./hooks-command.js').then((m) => m.hooksCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'sensors':
        return import('./sensors-command.js').then((m) => m.sensorsCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'status':
        return import('./status-command.js').then((m) => m.statusCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'members':
        return import('./members-command.js').then((m) => m.membersCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'get':
        return import('./kv-command.js').then((m) => m.getCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'set':
        return import('./kv-command.js').then((m) => m.setCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'del':
        return import('./kv-command.js').then((m) => m.delCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'watch':
        return import('./watch-command.js').then((m) => m.watchCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'query':
        return import('./query-command.js').then((m) => m.queryCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'agg':
        return import('./agg-command.js').then((m) => m.aggCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'leds':
        return import('./leds-command.js').then((m) => m.ledsCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'admin':
        return import('./admin-command.js').then((m) => m.adminCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'config':
        return import('./config-command.js').then((m) => m.configCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case 'provision':
        return import('./provision-command.js').then((m) => m.provisionCommand(rest, io)).catch((e: unknown) => fail(e, io));
      case '--version':
      case '-V':
      case 'version':
        io.out(`murmur ${murmurVersion()}`);
        return 0;
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        io.out(help);
        return 0;
      default:
        throw new CliError(`murmur: unknown command "${cmd}"${didYouMean(cmd, commandNames())}\n${help}`);
    }
  } catch (e) {
    return fail(e, io);
  }
}

/** The commands the help lists, for "did you mean". */
function commandNames(): string[] {
  const block = help.split('commands:\n')[1]!.split('\n\n')[0]!;
  return block.split('\n').map((line) => line.trim().split(' ')[0]!);
}

function fail(e: unknown, io: CliIo): number {
  if (e instanceof CliError) {
    if (e.code === 0) io.out(e.message);
    else io.err(e.message);
    return e.code;
  }
  throw e;
}
