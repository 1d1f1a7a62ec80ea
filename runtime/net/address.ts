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
