// What the UDP transport tests share: options for a transport on the loopback only, and a wait
// on the kernel rather than a fixed sleep.
import { StaticInterfaces, type NetInterface } from '../../runtime/net/interfaces.js';
import type { UdpOptions } from '../../runtime/net/udp-transport.js';

export const lo: NetInterface = { name: 'lo', ipv4: '127.0.0.1', ipv6: '::1', loopback: true, up: true, multicast: true };

/** A transport bound to 127.0.0.1 on an ephemeral port, group sends off; each test file picks its own group port. */
export function loopbackOptions(groupPort: number, over: Partial<UdpOptions> = {}): UdpOptions {
  return {
    families: ['ipv4'],
    group4: '239.255.77.78',
    group6: 'ff02::77:78',
    groupPort,
    port: 0,
    bind4: '127.0.0.1',
    interfaces: 'auto',
    multicast: false,
    ttl: 1,
    budget: 1200,
    interfaceSource: new StaticInterfaces([lo]),
    interfaceCheckMs: 0,
    ...over,
  };
}

/** Poll `cond` every 5 ms until it holds; throws after `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
