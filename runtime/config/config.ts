// The effective configuration: the embedded defaults, overlaid by the fleet file, overlaid by the
// device file, overlaid by command-line options (see layers.ts). Files are YAML; JSON is YAML too.
// Every error names the file and line that wrote the value, the field path and what was
// expected; unknown fields are errors, so a typo never silently falls back to a default.

import { isIPv4, isIPv6 } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { defaults } from '../../device-config/defaults.js';
import { profileByName, type Profile } from '../core/profiles.js';
import type { Level } from '../log/log.js';
import { parseAddress, type Family } from '../net/address.js';
import { parseLoopbackListen } from './api-listen.js';
import { ConfigError } from './config-error.js';
import { validateHal, type HalConfig } from './hal-config.js';
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
  readonly metrics: { readonly enabled: boolean };
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
    deviceLayer = { name: device.file, value: rest, lineOf: (p) => device.lineOf(p) };
  }
  const layers = new Layers(defaults);
  const files: string[] = [];
  if (fleetFile !== undefined) {
    const fleet = readConfigSource(fleetFile);
    checkFleetFile(fleet);
    layers.apply({ name: fleet.file, value: fleet.value, lineOf: (p) => fleet.lineOf(p) });
    files.push(fleet.file);
  }
  if (deviceLayer) {
    layers.apply(deviceLayer);
    files.push(deviceLayer.name);
  }
  if (Object.keys(overrides).length > 0) layers.apply(overridesLayer(overrides));
  return { config: validate(layers), files };
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

function validate(layers: Layers): MurmurConfig {
  const c = layers.merged;
  const fail = (path: string, expected: string, got: unknown): never => {
    const shown = isSecretField(path) ? '(a value, not shown: the field holds a secret)' : (JSON.stringify(withoutKeys(got)) ?? 'nothing');
    throw new ConfigError(`${layers.where(path)}: ${path}: expected ${expected}, got ${shown}`);
  };
  const bad = (path: string, message: string): never => {
    throw new ConfigError(`${layers.where(path)}: ${path}: ${message}`);
  };
  const node = c.node as Obj;
  const net = c.network as Obj;
  const api = c.api as Obj;
  const log = c.log as Obj;
  const sec = c.security as Obj;
  const metrics = c.metrics as Obj;
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

  const name = idName(optStr(node, 'name', 'node.name'), 'node.name');
  const fleet = idName(optStr(node, 'fleet', 'node.fleet'), 'node.fleet');
  const profile = str(node, 'profile', 'node.profile');
  try {
    profileByName(profile);
  } catch {
    fail('node.profile', '"lan" or "wifi"', profile);
  }
  const families = strList(net, 'families', 'network.families');
  if (families.length === 0 || !families.every((f) => f === 'ipv4' || f === 'ipv6')) fail('network.families', 'a non-empty list of "ipv4" and "ipv6"', families);
  const interfaces = net.interfaces === 'auto' ? 'auto' : strList(net, 'interfaces', 'network.interfaces', '"auto" or a list of interface names');
  if (typeof net.multicast !== 'boolean') fail('network.multicast', 'true or false', net.multicast);
  const group4 = str(net, 'group4', 'network.group4');
  if (!isIPv4(group4) || !/^2(2[4-9]|3\d)\./.test(group4)) fail('network.group4', 'an IPv4 multicast address (224.0.0.0/4)', group4);
  const group6 = str(net, 'group6', 'network.group6');
  // Link-local scope only: the group is joined and sent per interface, which other scopes ignore.
  if (!isIPv6(group6) || !/^ff[0-9a-f]2:/i.test(group6)) fail('network.group6', 'a link-local IPv6 multicast address (ff02::/16)', group6);
  const port = int(net, 'port', 'network.port', 0, 65535);
  const groupPort = int(net, 'groupPort', 'network.groupPort', 1, 65535);
  if (port === groupPort) {
    // Blame the one a file (or the command line) set: the other is the default it collides with.
    if (layers.layerOf('network.port') || !layers.layerOf('network.groupPort')) {
      fail('network.port', 'a port different from network.groupPort (the node tells group traffic from direct traffic by port)', port);
    }
    fail('network.groupPort', 'a port different from network.port (the node tells group traffic from direct traffic by port)', groupPort);
  }
  const seeds = strList(net, 'seeds', 'network.seeds', 'a list of addresses as strings (quote bracketed IPv6: "[fd00::5]:7478")');
  seeds.forEach((s, i) => {
    try {
      parseAddress(s, `network.seeds[${i}]`, port === 0 ? undefined : port);
    } catch (e) {
      throw new ConfigError(`${layers.where(`network.seeds[${i}]`)}: ${(e as Error).message}`);
    }
  });

  const fleetKeyFile = optStr(sec, 'fleetKeyFile', 'security.fleetKeyFile');
  if (fleetKeyFile !== undefined && looksLikeKey(fleetKeyFile)) {
    // Not echoed: the message ends up in logs and terminals, and this is the fleet's secret.
    bad('security.fleetKeyFile', 'expected the path of a file holding the fleet key, got what looks like the key itself (not shown): put it in a file readable only by murmur and give that path');
  }
  const adminPublicKey = optStr(sec, 'adminPublicKey', 'security.adminPublicKey');
  if (adminPublicKey !== undefined && Buffer.from(adminPublicKey, 'base64').length !== 32) {
    fail('security.adminPublicKey', 'an Ed25519 public key, 32 bytes in base64 (murmur admin init prints it)', adminPublicKey);
  }

  const group = apiGroup(api.group, fail);
  let tcp = optStr(api, 'tcp', 'api.tcp');
  if (tcp !== undefined) {
    try {
      // Written back in one form ("[::1]:7479", never "[0:0:0:0:0:0:0:1]:7479"), which is what the API server takes.
      const { host, port: tcpPort } = parseLoopbackListen(tcp);
      tcp = host.includes(':') ? `[${host}]:${tcpPort}` : `${host}:${tcpPort}`;
    } catch (e) {
      fail('api.tcp', `a loopback address and port such as "127.0.0.1:7479" or "[::1]:7479" (${(e as Error).message}; the API must never listen on the network)`, tcp);
    }
  }
  if (typeof metrics.enabled !== 'boolean') fail('metrics.enabled', 'false', metrics.enabled);
  // Accepting true would silently do nothing: say so instead.
  if (metrics.enabled) fail('metrics.enabled', 'false (metrics are not implemented yet; they come with a later issue)', metrics.enabled);

  const level = str(log, 'level', 'log.level');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) fail('log.level', 'debug, info, warn or error', level);
  return {
    node: { name, fleet, stateDir: str(node, 'stateDir', 'node.stateDir'), profile },
    network: {
      families: families as Family[],
      interfaces,
      multicast: net.multicast as boolean,
      group4,
      group6,
      groupPort,
      port,
      ttl: int(net, 'ttl', 'network.ttl', 1, 255),
      seeds,
      interfaceCheckMs: int(net, 'interfaceCheckMs', 'network.interfaceCheckMs', 0, 3_600_000),
    },
    security: { fleetKeyFile, adminPublicKey, keyGraceDays: int(sec, 'keyGraceDays', 'security.keyGraceDays', 0, 3650) },
    hal: validateHal(c.hal as Obj, fail, bad),
    api: { socket: str(api, 'socket', 'api.socket'), group, tcp, tokenFile: str(api, 'tokenFile', 'api.tokenFile') },
    metrics: { enabled: false },
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

/** The TCP API's token file: api.tokenFile, relative to the state directory unless absolute. */
export function apiTokenPath(c: MurmurConfig): string {
  return isAbsolute(c.api.tokenFile) ? c.api.tokenFile : join(c.node.stateDir, c.api.tokenFile);
}
