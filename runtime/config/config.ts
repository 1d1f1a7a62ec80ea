// The effective configuration: embedded defaults, overlaid by a JSON file, overlaid by command
// line options. Every error names the source and the field path; unknown fields are errors, so
// a typo never silently falls back to a default.

import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { defaults } from '../../device-config/defaults.js';
import { profileByName, type Profile } from '../core/profiles.js';
import type { Level } from '../agent/log.js';
import { parseAddress, type Family } from '../net/address.js';
import { validateHal, type HalConfig } from './hal-config.js';

export interface MurmurConfig {
  readonly node: { readonly name: string | undefined; readonly stateDir: string; readonly profile: string };
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
  readonly api: { readonly socket: string };
  readonly log: { readonly level: Level };
}

export class ConfigError extends Error {}

type Obj = Record<string, unknown>;

/** Load `file` (or nothing) over the defaults, then apply `overrides` (dotted paths, e.g. "network.port"). */
export function loadConfig(file: string | undefined, overrides: Readonly<Record<string, unknown>> = {}): MurmurConfig {
  const merged = structuredClone(defaults) as unknown as Obj;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`config ${file}: cannot read: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config ${file}: not valid JSON: ${(e as Error).message}`);
    }
    overlay(merged, parsed, file, '');
  }
  for (const [path, value] of Object.entries(overrides)) {
    const parts = path.split('.');
    let o = merged;
    for (const p of parts.slice(0, -1)) o = o[p] as Obj;
    o[parts.at(-1)!] = value;
  }
  return validate(merged, file ?? 'defaults');
}

function overlay(target: Obj, src: unknown, file: string, path: string): void {
  if (!src || typeof src !== 'object' || Array.isArray(src)) {
    throw new ConfigError(`config ${file}: ${path || 'top level'}: expected an object`);
  }
  for (const [k, v] of Object.entries(src as Obj)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in target)) {
      throw new ConfigError(`config ${file}: ${p}: unknown field (expected one of: ${Object.keys(target).join(', ')})`);
    }
    const cur = target[k];
    if (cur && typeof cur === 'object' && !Array.isArray(cur)) overlay(cur as Obj, v, file, p);
    else target[k] = v;
  }
}

function validate(c: Obj, src: string): MurmurConfig {
  const fail = (path: string, expected: string, got: unknown): never => {
    throw new ConfigError(`config ${src}: ${path}: expected ${expected}, got ${JSON.stringify(got)}`);
  };
  const node = c.node as Obj;
  const net = c.network as Obj;
  const api = c.api as Obj;
  const log = c.log as Obj;
  const sec = c.security as Obj;
  const str = (o: Obj, k: string, path: string): string => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : fail(path, 'a non-empty string', o[k]));
  const int = (o: Obj, k: string, path: string, lo: number, hi: number): number =>
    Number.isInteger(o[k]) && (o[k] as number) >= lo && (o[k] as number) <= hi ? (o[k] as number) : fail(path, `an integer ${lo}-${hi}`, o[k]);
  const strList = (o: Obj, k: string, path: string): string[] =>
    Array.isArray(o[k]) && (o[k] as unknown[]).every((x) => typeof x === 'string') ? (o[k] as string[]) : fail(path, 'a list of strings', o[k]);

  if (node.name !== undefined && node.name !== null) {
    const name = str(node, 'name', 'node.name');
    if (name.length > 64 || !/^[A-Za-z0-9._-]+$/.test(name)) fail('node.name', 'up to 64 letters, digits, ".", "_" or "-"', name);
  }
  const profile = str(node, 'profile', 'node.profile');
  try {
    profileByName(profile);
  } catch {
    fail('node.profile', '"lan" or "wifi"', profile);
  }
  const families = strList(net, 'families', 'network.families');
  if (families.length === 0 || !families.every((f) => f === 'ipv4' || f === 'ipv6')) fail('network.families', 'a non-empty list of "ipv4" and "ipv6"', families);
  const interfaces = net.interfaces === 'auto' ? 'auto' : strList(net, 'interfaces', 'network.interfaces');
  if (typeof net.multicast !== 'boolean') fail('network.multicast', 'true or false', net.multicast);
  const group4 = str(net, 'group4', 'network.group4');
  if (!isIPv4(group4) || !/^2(2[4-9]|3\d)\./.test(group4)) fail('network.group4', 'an IPv4 multicast address (224.0.0.0/4)', group4);
  const group6 = str(net, 'group6', 'network.group6');
  // Link-local scope only: the group is joined and sent per interface, which other scopes ignore.
  if (!isIPv6(group6) || !/^ff[0-9a-f]2:/i.test(group6)) fail('network.group6', 'a link-local IPv6 multicast address (ff02::/16)', group6);
  const port = int(net, 'port', 'network.port', 0, 65535);
  const groupPort = int(net, 'groupPort', 'network.groupPort', 1, 65535);
  if (port === groupPort) fail('network.port', 'a port different from network.groupPort (the node tells group traffic from direct traffic by port)', port);
  const seeds = strList(net, 'seeds', 'network.seeds');
  seeds.forEach((s, i) => {
    try {
      parseAddress(s, `network.seeds[${i}]`, port === 0 ? undefined : port);
    } catch (e) {
      throw new ConfigError(`config ${src}: ${(e as Error).message}`);
    }
  });
  const optStr = (o: Obj, k: string, path: string): string | undefined => (o[k] === undefined || o[k] === null ? undefined : str(o, k, path));
  const fleetKeyFile = optStr(sec, 'fleetKeyFile', 'security.fleetKeyFile');
  const adminPublicKey = optStr(sec, 'adminPublicKey', 'security.adminPublicKey');
  if (adminPublicKey !== undefined && Buffer.from(adminPublicKey, 'base64').length !== 32) {
    fail('security.adminPublicKey', 'an Ed25519 public key, 32 bytes in base64 (murmur admin init prints it)', adminPublicKey);
  }
  const level = str(log, 'level', 'log.level');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) fail('log.level', 'debug, info, warn or error', level);
  return {
    node: { name: (node.name ?? undefined) as string | undefined, stateDir: str(node, 'stateDir', 'node.stateDir'), profile },
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
    hal: validateHal(c.hal as Obj, fail, (path, message) => {
      throw new ConfigError(`config ${src}: ${path}: ${message}`);
    }),
    api: { socket: str(api, 'socket', 'api.socket') },
    log: { level: level as Level },
  };
}

export function profileOf(c: MurmurConfig): Profile {
  return profileByName(c.node.profile);
}

export function apiSocketPath(c: MurmurConfig): string {
  return isAbsolute(c.api.socket) ? c.api.socket : join(c.node.stateDir, c.api.socket);
}
