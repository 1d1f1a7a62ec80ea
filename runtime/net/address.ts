// Unicast addresses as the core sees them: "host:port" for IPv4, "[host]:port" for IPv6, where
// a link-local IPv6 host carries its interface ("fe80::1%eth0"), as node:dgram reports it.

import { isIPv4, isIPv6 } from 'node:net';

export type Family = 'ipv4' | 'ipv6';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly family: Family;
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parse "1.2.3.4:7478", "[fd00::1]:7478" or "[fe80::1%eth0]:7478". A missing port takes
 * `defaultPort`. Throws an error naming `what` (e.g. the config field) when it is not an address.
 */
export function parseAddress(text: string, what: string, defaultPort?: number): Endpoint {
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(':') as [string, string];
  }
  const bare = host.split('%')[0]!;
  const family: Family | undefined = isIPv4(host) ? 'ipv4' : isIPv6(bare) ? 'ipv6' : undefined;
  if (!family) throw new Error(`${what}: "${text}" is not an IPv4 address or a bracketed IPv6 address, e.g. 192.168.1.20:7478 or [fd00::20]:7478`);
  const port = portText === undefined ? defaultPort : Number(portText);
  if (port === undefined) throw new Error(`${what}: "${text}" has no port`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what}: port in "${text}" must be 1-65535`);
  return { host, port, family };
}

/** A seed as configured: an address, or a host name to look up ("pi-3.local:7478", "gw.lan"). */
export type Seed = { readonly kind: 'address'; readonly endpoint: Endpoint } | { readonly kind: 'name'; readonly name: string; readonly port: number };

/** RFC 1123 host names, with an optional final dot; labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}\.?$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Parse a seed: an address as parseAddress takes it, or a host name (a `.local` name included)
 * with an optional port. Throws an error naming `what` when it is neither.
 */
export function parseSeed(text: string, what: string, defaultPort?: number): Seed {
  const colons = (text.match(/:/g) ?? []).length;
  const [host, portText] = colons === 1 ? (text.split(':') as [string, string]) : [text, undefined];
  // A name is never all digits and dots: "10.0.0" is a mistyped address, not a name.
  if (colons <= 1 && !text.startsWith('[') && HOST_NAME.test(host) && !/^[\d.]+$/.test(host)) {
    const port = portText === undefined ? defaultPort : Number(portText);
    if (port === undefined) throw new Error(`${what}: "${text}" has no port`);
    if (!/^\d+$/.test(String(portText ?? port)) || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what}: port in "${text}" must be 1-65535`);
    return { kind: 'name', name: host, port };
  }
  try {
    return { kind: 'address', endpoint: parseAddress(text, what, defaultPort) };
  } catch (e) {
    if (!(e as Error).message.includes('is not an IPv4 address')) throw e;
    throw new Error(`${what}: "${text}" is not an address or a host name, e.g. 192.168.1.20:7478, [fd00::20]:7478 or pi-3.local:7478`);
  }
}
