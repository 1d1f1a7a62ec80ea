// `metrics.listen`: where a Prometheus server on the LAN scrapes this node. An IP literal and a
// port; host names are refused (what they resolve to is not up to the config), and so is an
// IPv6 zone, which the HTTP Host header cannot carry.

import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  /** As net.Server.listen takes it: no brackets. */
  readonly host: string;
  readonly port: number;
}

/** "0.0.0.0:9479" or "[::]:9479" -> host and port; an Error saying what is wrong otherwise. */
export function parseListen(address: string): ListenAddress {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (!m) throw new Error('not HOST:PORT (write IPv6 in brackets: [::]:9479)');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`port ${m[3]} is not 1-65535`);
  if (m[1] !== undefined) {
    if (!isIPv6(m[1]) || m[1].includes('%')) throw new Error(`"${m[1]}" is not an IPv6 address without a zone`);
    // In its shortest form, as the URL parser writes it: 0:0:0:0:0:0:0:0 is ::.
    return { host: new URL(`http://[${m[1]}]/`).hostname.slice(1, -1), port };
  }
  const v4 = m[2] ?? '';
  if (!isIPv4(v4)) throw new Error(`"${v4}" is not an IPv4 address (host names are not accepted)`);
  return { host: v4, port };
}

export function formatListen(l: ListenAddress): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}
