// The effective configuration: the embedded defaults, overlaid by the fleet file, overlaid by the
// device file, overlaid by command-line options (see layers.ts). Files are YAML; JSON is YAML too.
// Every error names the file and line that wrote the value, the field path and what was
// expected; unknown fields are errors, so a typo never silently falls back to a default.

import { isIPv4, isIPv6 } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { defaults } from '../../device-config/defaults.js';
import { profileByName, type Profile } from '../core/profiles.js';
import type { Level } from '../log/log.js';
import { parseSeed, type Family } from '../net/address.js';
import { parseLoopbackListen } from './api-listen.js';
import { formatHttpListen, parseHttpListen } from './http-listen.js';
import { ConfigError, fieldRecorder } from './config-error.js';
import { formatListen, parseListen } from './metrics-listen.js';
import { validateHal, type HalConfig } from './hal-config.js';
import { validateQueries, type QueryCommand } from './queries-config.js';
import { validateHooks, type HooksConfig } from './hooks-config.js';
import { validateMqtt, type MqttConfig } from './mqtt-config.js';
import { describe, isMap, Layers, overridesLayer, withoutKeys, type Layer } from './layers.js';
import { isSecretField, looksLikeKey } from './secrets.js';
import { readConfigSource, type ConfigSource } from './yaml-source.js';

export { ConfigError } from './config-error.js';

export interface MurmurConfig {
  readonly node: { readonly name: string | undefined; readonly fleet: string | undefined; readonly stateDir: string; readonly profile: string };
  readonly network: {
    readonly families: readonly Family[];
    readonly interfaces: readonly string[] | 'auto';
    readonly multicast: boolean;
    readonly group4: string;
    readonly group6: string;
    readonly groupPort: number;
    readonly port: number;
    readonly ttl: number;
    readonly seeds: readonly string[];
    readonly interfaceCheckMs: number;
  };
  readonly security: { readonly fleetKeyFile: string | undefined; readonly adminPublicKey: string | undefined; readonly keyGraceDays: number };
  readonly hal: HalConfig;
  /**
   * `group`: a group name or a numeric gid (as a string); `tcp`: a loopback "HOST:PORT" (see
   * api-listen.ts); `tokenFile`: the bearer token TCP requests carry (see apiTokenPath).
   */
  readonly api: { readonly socket: string; readonly group: string | undefined; readonly tcp: string | undefined; readonly tokenFile: string };
  /** The fleet page (runtime/api/page): `listen` an IP "HOST:PORT" (see http-listen.ts), unset for none. */
  readonly http: { readonly listen: string | undefined; readonly tokenFile: string; readonly maxClients: number };
  /** Fleet queries answered by a command (queries-config.ts). */
  readonly queries: Readonly<Record<string, QueryCommand>>;
  /** `listen`: "HOST:PORT" for a LAN scraper (see metrics-listen.ts); `tokenFile`: the token its scrapes carry. */
  readonly metrics: {
    readonly enabled: boolean;
    readonly listen: string | undefined;
    readonly tokenFile: string;
    readonly peerLabels: boolean;
    readonly maxPeers: number;
    readonly processMetrics: boolean;
  };
  readonly hooks: HooksConfig;
  readonly mqtt: MqttConfig;
  readonly log: { readonly level: Level };
}

export interface ConfigOptions {
  /** The fleet-wide file, in place of the device file's `extends` (relative to the working directory). */
  readonly fleetFile?: string | undefined;
}

export interface LoadedConfig {
  readonly config: MurmurConfig;
  /** The files applied, fleet file first. */
  readonly files: readonly string[];
  /** "config FILE:LINE" of the value at a field path, for a message about it. */
  readonly where: (path: string) => string;
}

type Obj = Record<string, unknown>;

/** The top-level field of a device file that names its fleet file. Not part of MurmurConfig. */
const EXTENDS = 'extends';

/** Load `file` (or nothing) over the fleet file and the defaults, then apply `overrides` (dotted paths, e.g. "network.port"). */
export function loadConfig(file: string | undefined, overrides: Readonly<Record<string, unknown>> = {}, options: ConfigOptions = {}): MurmurConfig {
  return loadLayeredConfig(file, overrides, options).config;
}

export function loadLayeredConfig(file: string | undefined, overrides: Readonly<Record<string, unknown>> = {}, options: ConfigOptions = {}): LoadedConfig {
  const device = file === undefined ? undefined : readConfigSource(file);
  let fleetFile = options.fleetFile;
  let deviceLayer: Layer | undefined;
  if (device) {
    const { rest, extendsPath } = splitExtends(device);
    // The command line wins over the file, as for every other field.
    if (fleetFile === undefined && extendsPath !== undefined) fleetFile = resolve(dirname(device.file), extendsPath);
    deviceLayer = { name: device.file, dir: dirname(resolve(device.file)), value: rest, lineOf: (p) => device.lineOf(p) };
  }
  const layers = new Layers(defaults);
  const files: string[] = [];
  if (fleetFile !== undefined) {
    const fleet = readConfigSource(fleetFile);
    checkFleetFile(fleet);
    layers.apply({ name: fleet.file, dir: dirname(resolve(fleet.file)), value: fleet.value, lineOf: (p) => fleet.lineOf(p) });
    files.push(fleet.file);
  }
  if (deviceLayer) {
    layers.apply(deviceLayer);
    files.push(deviceLayer.name);
  }
  if (Object.keys(overrides).length > 0) layers.apply(overridesLayer(overrides));
  return { config: validate(layers), files, where: (path) => layers.where(path) };
}

/** The device file without its `extends`, and the path it names (relative to the device file). */
function splitExtends(src: ConfigSource): { rest: unknown; extendsPath: string | undefined } {
  if (!isMap(src.value) || !Object.hasOwn(src.value, EXTENDS)) return { rest: src.value, extendsPath: undefined };
  const { [EXTENDS]: ext, ...rest } = src.value;
  if (typeof ext !== 'string' || ext === '') {
    throw new ConfigError(`config ${src.file}:${src.lineOf(EXTENDS) ?? 1}: ${EXTENDS}: expected the path of the fleet-wide file (relative to this file), got ${describe(ext)}`);
  }
  return { rest, extendsPath: ext };
}

/** What a fleet file may not say: one level of layering only, and nothing that must differ per device. */
function checkFleetFile(src: ConfigSource): void {
  if (!isMap(src.value)) return; // the overlay names the top-level mistake
  if (Object.hasOwn(src.value, EXTENDS)) {
    throw new ConfigError(`config ${src.file}:${src.lineOf(EXTENDS) ?? 1}: ${EXTENDS}: a fleet file cannot extend another (the layers are defaults, fleet file, device file)`);
  }
  const node = src.value.node;
  if (isMap(node) && node.name !== undefined && node.name !== null) {
    throw new ConfigError(`config ${src.file}:${src.lineOf('node.name') ?? 1}: node.name: belongs in the device file, not the fleet file (every device needs a name of its own)`);
  }
}

/**
 * Every field is checked, and every error found is reported at once (one line each, in the
 * order of the fields), so a person fixing a file does not have to run the check once per mistake.
 */
function validate(layers: Layers): MurmurConfig {
  const c = layers.merged;
  const errors: string[] = [...layers.errors];
  const fail = (path: string, expected: string, got: unknown): never => {
    const shown = isSecretField(path) ? '(a value, not shown: the field holds a secret)' : (JSON.stringify(withoutKeys(got)) ?? 'nothing');
    throw new ConfigError(`${layers.where(path)}: ${path}: expected ${expected}, got ${shown}`);
  };
  const bad = (path: string, message: string): never => {
    throw new ConfigError(`${layers.where(path)}: ${path}: ${message}`);
  };
  /** The fallback is never used: the recorded errors are thrown together below. */
  const field = fieldRecorder((e) => errors.push(e.message));
  const node = c.node as Obj;
  const net = c.network as Obj;
  const api = c.api as Obj;
  const log = c.log as Obj;
  const sec = c.security as Obj;
  const metrics = c.metrics as Obj;
  const http = c.http as Obj;
  const str = (o: Obj, k: string, path: string): string => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : fail(path, 'a non-empty string', o[k]));
  /** null (YAML `~` or an empty value) is the same as unset. */
  const optStr = (o: Obj, k: string, path: string): string | undefined => (o[k] === undefined || o[k] === null ? undefined : str(o, k, path));
  const int = (o: Obj, k: string, path: string, lo: number, hi: number): number =>
    Number.isInteger(o[k]) && (o[k] as number) >= lo && (o[k] as number) <= hi ? (o[k] as number) : fail(path, `an integer ${lo}-${hi}`, o[k]);
  const strList = (o: Obj, k: string, path: string, what = 'a list of strings'): string[] =>
    Array.isArray(o[k]) && (o[k] as unknown[]).every((x) => typeof x === 'string') ? (o[k] as string[]) : fail(path, what, o[k]);
  const idName = (v: string | undefined, path: string): string | undefined => {
    if (v !== undefined && (v.length > 64 || !/^[A-Za-z0-9._-]+$/.test(v))) fail(path, 'up to 64 letters, digits, ".", "_" or "-"', v);
    return v;
  };
  /** A path a file wrote is relative to that file, as `extends` is; one from the command line, to the working directory. */
  const filePath = (path: string, v: string): string => {
    const dir = layers.layerOf(path)?.dir;
    return dir === undefined || isAbsolute(v) ? v : resolve(dir, v);
  };

  const name = field(() => idName(optStr(node, 'name', 'node.name'), 'node.name'), undefined);
  const fleet = field(() => idName(optStr(node, 'fleet', 'node.fleet'), 'node.fleet'), undefined);
  const stateDir = field(() => filePath('node.stateDir', str(node, 'stateDir', 'node.stateDir')), '');
  const profile = field(() => {
    const p = str(node, 'profile', 'node.profile');
    try {
      profileByName(p);
    } catch {
      fail('node.profile', '"lan" or "wifi"', p);
    }
    return p;
  }, 'lan');
  const families = field(() => {
    const f = strList(net, 'families', 'network.families');
    if (f.length === 0 || !f.every((x) => x === 'ipv4' || x === 'ipv6')) fail('network.families', 'a non-empty list of "ipv4" and "ipv6"', f);
    return f;
  }, []);
  const interfaces = field(() => (net.interfaces === 'auto' ? 'auto' : strList(net, 'interfaces', 'network.interfaces', '"auto" or a list of interface names')), 'auto');
  field(() => typeof net.multicast === 'boolean' || fail('network.multicast', 'true or false', net.multicast), true);
  const group4 = field(() => {
    const g = str(net, 'group4', 'network.group4');
    if (!isIPv4(g) || !/^2(2[4-9]|3\d)\./.test(g)) fail('network.group4', 'an IPv4 multicast address (224.0.0.0/4)', g);
    return g;
  }, '');
  const group6 = field(() => {
    const g = str(net, 'group6', 'network.group6');
    // Link-local scope only: the group is joined and sent per interface, which other scopes ignore.
    if (!isIPv6(g) || !/^ff[0-9a-f]2:/i.test(g)) fail('network.group6', 'a link-local IPv6 multicast address (ff02::/16)', g);
    return g;
  }, '');
  const port = field(() => int(net, 'port', 'network.port', 0, 65535), -1);
  const groupPort = field(() => int(net, 'groupPort', 'network.groupPort', 1, 65535), -1);
  field(() => {
    // -1: the port itself is wrong, and already reported.
    if (port !== groupPort || port < 0) return;
    // Blame the one a file (or the command line) set: the other is the default it collides with.
    if (layers.layerOf('network.port') || !layers.layerOf('network.groupPort')) {
      fail('network.port', 'a port different from network.groupPort (the node tells group traffic from direct traffic by port)', port);
    }
    fail('network.groupPort', 'a port different from network.port (the node tells group traffic from direct traffic by port)', groupPort);
  }, undefined);
  const seeds = field(() => strList(net, 'seeds', 'network.seeds', 'a list of addresses or host names as strings (quote bracketed IPv6: "[fd00::5]:7478")'), []);
  seeds.forEach((s, i) =>
    field(() => {
      try {
        parseSeed(s, `network.seeds[${i}]`, port <= 0 ? undefined : port);
      } catch (e) {
        throw new ConfigError(`${layers.where(`network.seeds[${i}]`)}: ${(e as Error).message}`);
      }
    }, undefined),
  );
  const ttl = field(() => int(net, 'ttl', 'network.ttl', 1, 255), 1);
  const interfaceCheckMs = field(() => int(net, 'interfaceCheckMs', 'network.interfaceCheckMs', 0, 3_600_000), 0);

  const fleetKeyFile = field(() => {
    const f = optStr(sec, 'fleetKeyFile', 'security.fleetKeyFile');
    if (f !== undefined && looksLikeKey(f)) {
      // Not echoed: the message ends up in logs and terminals, and this is the fleet's secret.
      bad('security.fleetKeyFile', 'expected the path of a file holding the fleet key, got what looks like the key itself (not shown): put it in a file readable only by murmur and give that path');
    }
    return f === undefined ? undefined : filePath('security.fleetKeyFile', f);
  }, undefined);
  const adminPublicKey = field(() => {
    const k = optStr(sec, 'adminPublicKey', 'security.adminPublicKey');
    if (k !== undefined && Buffer.from(k, 'base64').length !== 32) {
      fail('security.adminPublicKey', 'an Ed25519 public key, 32 bytes in base64 (murmur admin init prints it)', k);
    }
    return k;
  }, undefined);
  const keyGraceDays = field(() => int(sec, 'keyGraceDays', 'security.keyGraceDays', 0, 3650), 0);

  const hal = field(() => validateHal(c.hal as Obj, fail, bad, (e) => errors.push(e.message)), undefined);
  const queries = field(() => validateQueries(c.queries, fail, bad, (e) => errors.push(e.message)), {});
  const group = field(() => apiGroup(api.group, fail), undefined);
  const tcp = field(() => {
    const t = optStr(api, 'tcp', 'api.tcp');
    if (t === undefined) return undefined;
    try {
      // Written back in one form ("[::1]:7479", never "[0:0:0:0:0:0:0:1]:7479"), which is what the API server takes.
      const { host, port: tcpPort } = parseLoopbackListen(t);
      return host.includes(':') ? `[${host}]:${tcpPort}` : `${host}:${tcpPort}`;
    } catch (e) {
      return fail('api.tcp', `a loopback address and port such as "127.0.0.1:7479" or "[::1]:7479" (${(e as Error).message}; the API must never listen on the network)`, t);
    }
  }, undefined);
  const socket = field(() => str(api, 'socket', 'api.socket'), '');
  const tokenFile = field(() => str(api, 'tokenFile', 'api.tokenFile'), '');
  const httpListen = field(() => {
    const l = optStr(http, 'listen', 'http.listen');
    if (l === undefined) return undefined;
    try {
      return formatHttpListen(parseHttpListen(l));
    } catch (e) {
      return fail('http.listen', `an IP address and port such as "127.0.0.1:7480" or "0.0.0.0:7480" (${(e as Error).message})`, l);
    }
  }, undefined);
  const httpTokenFile = field(() => str(http, 'tokenFile', 'http.tokenFile'), '');
  const httpMaxClients = field(() => int(http, 'maxClients', 'http.maxClients', 1, 32), 1);
  const bool = (o: Obj, k: string, path: string): boolean => (typeof o[k] === 'boolean' ? (o[k] as boolean) : fail(path, 'true or false', o[k]));
  const metricsEnabled = field(() => bool(metrics, 'enabled', 'metrics.enabled'), false);
  const metricsListen = field(() => {
    const l = optStr(metrics, 'listen', 'metrics.listen');
    if (l === undefined) return undefined;
    try {
      return formatListen(parseListen(l));
    } catch (e) {
      return fail('metrics.listen', `an IP address and port such as "0.0.0.0:9479", "192.0.2.7:9479" or "[::]:9479" (${(e as Error).message})`, l);
    }
  }, undefined);
  field(() => {
    if (metricsListen !== undefined && !metricsEnabled) bad('metrics.listen', 'set, but metrics.enabled is false: enable metrics or remove the address');
  }, undefined);
  const metricsTokenFile = field(() => str(metrics, 'tokenFile', 'metrics.tokenFile'), '');
  const peerLabels = field(() => bool(metrics, 'peerLabels', 'metrics.peerLabels'), false);
  const maxPeers = field(() => int(metrics, 'maxPeers', 'metrics.maxPeers', 1, 256), 1);
  const processMetrics = field(() => bool(metrics, 'processMetrics', 'metrics.processMetrics'), true);

  const hooks = field(() => validateHooks(c.hooks as Obj, fail, bad, (e) => errors.push(e.message)), undefined);
  const mqtt = field(() => validateMqtt(c.mqtt as Obj, fail, bad, filePath, (e) => errors.push(e.message)), undefined);

  const level = field(() => {
    const l = str(log, 'level', 'log.level');
    if (!['debug', 'info', 'warn', 'error'].includes(l)) fail('log.level', 'debug, info, warn or error', l);
    return l;
  }, 'info');
  if (errors.length > 0 || hal === undefined || hooks === undefined || mqtt === undefined) throw new ConfigError(errors.join('\n'));
  return {
    node: { name, fleet, stateDir, profile },
    network: { families: families as Family[], interfaces, multicast: net.multicast as boolean, group4, group6, groupPort, port, ttl, seeds, interfaceCheckMs },
    security: { fleetKeyFile, adminPublicKey, keyGraceDays },
    hal,
    api: { socket, group, tcp, tokenFile },
    http: { listen: httpListen, tokenFile: httpTokenFile, maxClients: httpMaxClients },
    queries,
    metrics: { enabled: metricsEnabled, listen: metricsListen, tokenFile: metricsTokenFile, peerLabels, maxPeers, processMetrics },
    hooks,
    mqtt,
    log: { level: level as Level },
  };
}

/** A group name, or a gid (YAML reads `group: 1001` as a number): kept as a string either way. */
function apiGroup(v: unknown, fail: (path: string, expected: string, got: unknown) => never): string | undefined {
  if (v === undefined || v === null) return undefined;
  const expected = 'a group name (such as "murmur-admin") or a numeric gid';
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < 2 ** 32 - 1 ? String(v) : fail('api.group', expected, v);
  if (typeof v !== 'string') return fail('api.group', expected, v);
  if (/^\d+$/.test(v)) return Number(v) < 2 ** 32 - 1 ? String(Number(v)) : fail('api.group', expected, v);
  return /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(v) ? v : fail('api.group', expected, v);
}

export function profileOf(c: MurmurConfig): Profile {
  return profileByName(c.node.profile);
}

export function apiSocketPath(c: MurmurConfig): string {
  return isAbsolute(c.api.socket) ? c.api.socket : join(c.node.stateDir, c.api.socket);
}

/** The fleet page's token file: http.tokenFile, relative to the state directory unless absolute. */
export function httpTokenPath(c: MurmurConfig): string {
  return isAbsolute(c.http.tokenFile) ? c.http.tokenFile : join(c.node.stateDir, c.http.tokenFile);
}

/** The metrics listener's token file: metrics.tokenFile, relative to the state directory unless absolute. */
export function metricsTokenPath(c: MurmurConfig): string {
  return isAbsolute(c.metrics.tokenFile) ? c.metrics.tokenFile : join(c.node.stateDir, c.metrics.tokenFile);
}

/** The TCP API's token file: api.tokenFile, relative to the state directory unless absolute. */
export function apiTokenPath(c: MurmurConfig): string {
  return isAbsolute(c.api.tokenFile) ? c.api.tokenFile : join(c.node.stateDir, c.api.tokenFile);
}
