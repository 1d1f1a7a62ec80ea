// `api.tcp`: an optional TCP listen address for the local API, for clients that cannot open a
// Unix socket (a container, a language without AF_UNIX). The API has no authentication of its
// own beyond who can reach it, so it may only ever listen on loopback: 127.0.0.0/8 or ::1.
// Host names ("localhost") are refused too: what they resolve to is not up to the config.

import { isIPv4, isIPv6 } from 'node:net';

export interface LoopbackListen {
  /** "127.0.0.1" or "::1" (no brackets), as net.Server.listen takes it. */
  readonly host: string;
  readonly port: number;
}

/** "127.0.0.1:7479" or "[::1]:7479" -> host and port; an Error saying what is wrong otherwise. */
export function parseLoopbackListen(address: string): LoopbackListen {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (!m) throw new Error('not HOST:PORT (write IPv6 in brackets: [::1]:7479)');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`port ${m[3]} is not 1-65535`);
  const v6 = m[1];
  if (v6 !== undefined) {
    // isIPv6 accepts a zone ("::1%lo"), which loopback never needs and the URL parser refuses.
    if (!isIPv6(v6) || v6.includes('%')) throw new Error(`"${v6}" is not an IPv6 address without a zone`);
    // The URL parser writes an IPv6 address in its shortest form, so 0:0:0:0:0:0:0:1 is ::1 too.
    if (new URL(`http://[${v6}]/`).hostname !== '[::1]') throw new Error(`${v6} is not loopback (only ::1 is)`);
    return { host: '::1', port };
  }
  const v4 = m[2] ?? '';
  if (!isIPv4(v4)) throw new Error(`"${v4}" is not an IPv4 address (host names are not accepted)`);
  if (!v4.startsWith('127.')) throw new Error(`${v4} is not loopback (127.0.0.0/8)`);
  return { host: v4, port };
}
