// `murmur start`: run this device's node until SIGINT or SIGTERM, then leave gracefully.

import { murmurVersion } from './version.js';
import { Agent } from '../agent/agent.js';
import { lineLogger, type Logger } from '../log/log.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { CliError, type CliIo } from './io.js';
import { FATAL_LED_MS, showFatalError } from '../agent/fatal-led.js';
import { planReload } from './config-reload.js';
import { serviceNotifier } from './service-notify.js';

export const startHelp = `usage: murmur start [--config FILE] [options]

Runs this device's node: joins the fleet over UDP multicast (and unicast seeds),
keeps its identity, boot counter and own keys in the state directory, and serves
the local API on a Unix socket there. SIGINT or SIGTERM sends a leave to the
fleet and stops.

options (each overrides the config file):
  --config FILE          device config, YAML or JSON (README "Configuration")
  --fleet-config FILE    fleet-wide file under it, instead of its "extends"
  --state-dir DIR        node.stateDir
  --name NAME            node.name (default: chosen on first start and kept)
  --profile lan|wifi     node.profile
  --port N               network.port, the unicast port (0: any free port)
  --group-port N         network.groupPort
  --seed ADDR            replaces network.seeds; repeat for several, e.g.
                         10.0.0.5:7478, [fd00::5]:7478 or pi-3.local:7478
  --no-multicast         network.multicast = false (seeds and unicast only)
  --families LIST        network.families, e.g. ipv4 or ipv4,ipv6
  --interfaces LIST      network.interfaces, e.g. eth0,wlan0 (default: auto)
  --fleet-key-file FILE  security.fleetKeyFile, the fleet key read into the
                         keyring on first start
  --admin-public-key K   security.adminPublicKey: admit only devices with a
                         certificate it signed
  --hal-root DIR         hal.root: find /sys, /proc and /dev under DIR (a fake
                         tree, for demos and tests)
  --simulate-hardware    hal.simulate = true: simulated LEDs and environment
                         sensor, whatever the machine has (load, memory, disk
                         and uptime are still read from /proc)
  --http-listen ADDR     http.listen: serve the fleet page there, e.g.
                         127.0.0.1:7480 (README "Fleet page")
  --log-level LEVEL      log.level: debug, info, warn, error`;

export function parseStartArgs(args: readonly string[]): { file: string | undefined; fleetFile: string | undefined; overrides: Record<string, unknown> } {
  let file: string | undefined;
  let fleetFile: string | undefined;
  const overrides: Record<string, unknown> = {};
  const seeds: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new CliError(`${flag}: expected a value\n\n${startHelp}`);
      return v;
    };
    const int = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n)) throw new CliError(`${flag}: expected an integer, got ${v}`);
      return n;
    };
    switch (flag) {
      case '--config':
        file = value();
        break;
      case '--fleet-config':
        fleetFile = value();
        break;
      case '--state-dir':
        overrides['node.stateDir'] = value();
        break;
      case '--name':
        overrides['node.name'] = value();
        break;
      case '--profile':
        overrides['node.profile'] = value();
        break;
      case '--port':
        overrides['network.port'] = int();
        break;
      case '--group-port':
        overrides['network.groupPort'] = int();
        break;
      case '--seed':
        seeds.push(value());
        break;
      case '--no-multicast':
        overrides['network.multicast'] = false;
        break;
      case '--families':
        overrides['network.families'] = value().split(',');
        break;
      case '--interfaces': {
        const v = value();
        overrides['network.interfaces'] = v === 'auto' ? 'auto' : v.split(',');
        break;
      }
      case '--log-level':
        overrides['log.level'] = value();
        break;
      case '--http-listen':
        overrides['http.listen'] = value();
        break;
      case '--fleet-key-file':
        overrides['security.fleetKeyFile'] = value();
        break;
      case '--admin-public-key':
        overrides['security.adminPublicKey'] = value();
        break;
      case '--hal-root':
        overrides['hal.root'] = value();
        break;
      case '--simulate-hardware':
        overrides['hal.simulate'] = true;
        break;
      case '-h':
      case '--help':
        throw new CliError(startHelp, 0);
      default:
        throw new CliError(`murmur start: unknown option "${flag}"\n\n${startHelp}`);
    }
  }
  if (seeds.length > 0) overrides['network.seeds'] = seeds;
  return { file, fleetFile, overrides };
}

export async function startCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { file, fleetFile, overrides } = parseStartArgs(args);
  const fatalLedMs = Number(io.env['MURMUR_FATAL_LED_MS'] ?? FATAL_LED_MS);
  let config;
  try {
    config = loadConfig(file, overrides, { fleetFile });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Run as a service (no terminal): say it on the board LED too. At a terminal, the message is enough.
    if (io.stdin.isTTY !== true && overrides['hal.simulate'] !== true) await showFatalError(typeof overrides['hal.root'] === 'string' ? overrides['hal.root'] : '/', fatalLedMs);
    throw new CliError(e.message, 78);
  }
  // A closed pipe on stdout (`murmur start | tee`, with tee gone) must not take the node down.
  // Never unsubscribed: the last log lines are written just before the process exits.
  io.onOutputError(() => {});
  // Indirect, so a reload can change the level of every logger handed out below.
  let levelled = lineLogger(io.out, config.log.level);
  const log: Logger = { log: (level, event, fields) => levelled.log(level, event, fields) };
  let agent: Agent;
  try {
    agent = await Agent.start(config, { log, version: versionOrUnknown() });
  } catch (e) {
    log.log('error', 'start-failed', { error: (e as Error).message });
    if (io.stdin.isTTY !== true && config.hal.simulate !== true) await showFatalError(config.hal.root, fatalLedMs);
    return 1;
  }
  const service = serviceNotifier(io.env, log);
  service?.ready();
  let running = config;
  let reloading: Promise<void> = Promise.resolve();
  const stopReloading = io.onReload?.(() => {
    let next;
    try {
      next = loadConfig(file, overrides, { fleetFile });
    } catch (e) {
      log.log('error', 'reload-failed', { error: (e as Error).message, kept: 'the running config' });
      return;
    }
    const plan = planReload(running, next);
    const before = running;
    running = plan.running;
    levelled = lineLogger(io.out, running.log.level);
    const report = (applied: readonly string[], failed?: string): void =>
      log.log(plan.restart.length > 0 || failed !== undefined ? 'warn' : 'info', 'reload', {
        applied: applied.join(',') || 'none',
        ...(failed !== undefined ? { notApplied: plan.live.filter((f) => f.startsWith('hal.')).join(','), error: failed, kept: 'the running LEDs and sensors' } : {}),
        ...(plan.restart.length > 0 ? { restartNeeded: plan.restart.join(','), hint: 'systemctl restart murmur' } : {}),
      });
    if (!plan.hal) return report(plan.live);
    // Reloads are applied one at a time, in the order the signals came.
    reloading = reloading.then(() =>
      agent.reloadHal(running.hal).then(
        () => report(plan.live),
        (e: Error) => {
          running = { ...running, hal: before.hal };
          report(plan.live.filter((f) => !f.startsWith('hal.')), e.message);
        },
      ),
    );
  });
  return new Promise<number>((resolve) => {
    let signals = 0;
    const done = (code: number): void => {
      stopListening();
      stopReloading?.();
      resolve(code);
    };
    const stopListening = io.onSignal((sig) => {
      if (++signals > 1) {
        log.log('warn', 'stop-forced', { signal: sig });
        agent.flushOwnKeys();
        done(130);
        return;
      }
      log.log('info', 'signal', { signal: sig });
      service?.stopping();
      agent.stop(true).then(() => done(0), () => done(1));
    });
  });
}

/** The answer to the built-in "version" query; a tree without murmur's package.json still runs. */
function versionOrUnknown(): string {
  try {
    return murmurVersion();
  } catch {
    return 'unknown';
  }
}
