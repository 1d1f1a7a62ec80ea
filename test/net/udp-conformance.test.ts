import { StaticInterfaces, type NetInterface } from '../../runtime/net/interfaces.js';
import { UdpTransport } from '../../runtime/net/udp-transport.js';
import { transportConformance, type TransportUnderTest } from './transport-conformance.js';

// Loopback only: the group is joined on lo and every socket is bound to 127.0.0.1. The group
// port is this process's own, so concurrent test runs do not hear each other.
const lo: NetInterface = { name: 'lo', ipv4: '127.0.0.1', ipv6: undefined, loopback: true, up: true, multicast: true };
const GROUP_PORT = 40_000 + (process.pid % 20_000);

function udp(): TransportUnderTest {
  return {
    open: ({ budget, multicast }) =>
      UdpTransport.open({
        families: ['ipv4'],
        group4: '239.255.77.92',
        group6: 'ff02::77:92',
        groupPort: GROUP_PORT,
        port: 0,
        bind4: '127.0.0.1',
        interfaces: 'auto',
        multicast,
        ttl: 0,
        budget,
        interfaceSource: new StaticInterfaces([lo]),
        interfaceCheckMs: 0,
      }),
    deliver: async (done) => {
      const end = Date.now() + 300;
      while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    },
  };
}

transportConformance('UDP on loopback', udp);
