// The configuration a device runs with when its config file says nothing. Every value is chosen
// so that an empty file gives a working node on a typical LAN; the reason is beside each one.

export const defaults = {
  node: {
    /** Unset: the id chosen on first start (hostname plus a random suffix), kept in the state directory. */
    name: undefined as string | undefined,
    /** Holds identity, boot counter, own keys and the API socket. */
    stateDir: '/var/lib/murmur',
    /** Timing profile: "lan" for wired or good Wi-Fi, "wifi" for lossy, bursty links. */
    profile: 'lan',
  },
  network: {
    /** Both families: an IPv6-only segment still works, and so does a device with no IPv6. */
    families: ['ipv4', 'ipv6'] as string[],
    /** "auto": every up, multicast-capable interface (eth0 and wlan0 at once on many Pis). */
    interfaces: 'auto' as string[] | 'auto',
    multicast: true,
    /** Organisation-local scope (RFC 2365): never routed off the site. */
    group4: '239.255.77.77',
    /** Link-local scope: stays on the segment, joined per interface. */
    group6: 'ff02::77:77',
    groupPort: 7477,
    /** This node's unicast port; seeds without a port use it too. */
    port: 7478,
    /** One hop: gossip is for the local segment. */
    ttl: 1,
    /** Unicast addresses to contact at start, for networks where multicast does not get through. */
    seeds: [] as string[],
    /** How often interfaces are re-read to follow cables, Wi-Fi and DHCP. */
    interfaceCheckMs: 5000,
  },
  api: {
    /** Unix socket of the local API, relative to the state directory unless absolute. */
    socket: 'murmur.sock',
  },
  log: {
    level: 'info',
  },
};
