// `http.listen`: where the fleet page is served. Unlike the API (api-listen.ts), the page may
// listen beyond loopback, so a phone on the LAN can open it; it is read-only, and off loopback
// it asks for a token. An IP address only: what a host name resolves to is not up to the config.

import { isIPv4, isIPv6 } from 'node:net';

export interface HttpListen {
  /** An IP address without brackets, as net.Server.listen takes it. */
  readonly host: string;
  readonly port: number;
  /** 127.0.0.0/8 or ::1: only this machine can reach it. */
  readonly loopback: boolean;
}

/** "0.0.0.0:7480", "127.0.0.1:7480" or "[::]:7480" -> host, port and whether it is loopback. */
export function parseHttpListen(address: string): HttpListen {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (!m) throw new Error('not HOST:PORT (write IPv6 in brackets: [::]:7480)');
  const port = Number(m[3]);
  // 0: any free port, named in the log (tests).
  if (port > 65535) throw new Error(`port ${m[3]} is not 0-65535`);
  const v6 = m[1];
  if (v6 !== undefined) {
    if (!isIPv6(v6) || v6.includes('%')) throw new Error(`"${v6}" is not an IPv6 address without a zone`);
    const host = new URL(`http://[${v6}]/`).hostname.slice(1, -1);
    return { host, port, loopback: host === '::1' };
  }
  const v4 = m[2] ?? '';
  if (!isIPv4(v4)) throw new Error(`"${v4}" is not an IPv4 address (host names are not accepted)`);
  return { host: v4, port, loopback: v4.startsWith('127.') };
}

/** The address as the config writes it back: "[::1]:7480" for IPv6. */
export function formatHttpListen(l: HttpListen): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}
