// Which network interfaces can carry the multicast group, and with which addresses. A Pi often
// has eth0 and wlan0 at once, and either can come and go (cable pulled, Wi-Fi roaming), so the
// transport asks again every few seconds. Two sources share one interface: the real one reads
// node:os plus the kernel's interface flags under an injectable /sys root, the static one is
// set by tests.

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

export interface NetInterface {
  readonly name: string;
  /**
   * Kernel interface index when known. A USB Wi-Fi dongle that resets comes back under the
   * same name with a new index, and the kernel has dropped its group memberships with it.
   */
  readonly index?: number;
  /** First IPv4 address, needed to join and send to an IPv4 group on this interface. */
  readonly ipv4: string | undefined;
  /**
   * An IPv6 address to advertise, global or unique-local preferred, else link-local with its
   * interface ("fe80::1%eth0"). An IPv6 group is joined by interface, so any address will do.
   */
  readonly ipv6: string | undefined;
  readonly loopback: boolean;
  readonly up: boolean;
  readonly multicast: boolean;
}

export interface InterfaceSource {
  list(): NetInterface[];
}

// From <linux/if.h>.
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_MULTICAST = 0x1000;

/** Reads the host's interfaces. `sysRoot` lets tests point it at a fake /sys tree. */
export class SystemInterfaces implements InterfaceSource {
  constructor(private readonly sysRoot = '/') {}

  list(): NetInterface[] {
    const out: NetInterface[] = [];
    for (const [name, addrs] of Object.entries(networkInterfaces())) {
      if (!addrs) continue;
      const flags = this.#flags(name);
      const loopback = flags === undefined ? addrs.some((a) => a.internal) : (flags & IFF_LOOPBACK) !== 0;
      const index = this.#read(name, 'ifindex', 10);
      out.push({
        name,
        ...(index === undefined ? {} : { index }),
        ipv4: addrs.find((a) => a.family === 'IPv4')?.address,
        ipv6: pickIpv6(name, addrs),
        loopback,
        // node:os lists only interfaces with an address, which are up in practice; the flags
        // file is the authority where /sys is mounted.
        up: flags === undefined ? true : (flags & IFF_UP) !== 0,
        multicast: flags === undefined ? !loopback : (flags & IFF_MULTICAST) !== 0,
      });
    }
    return out;
  }

  #flags(name: string): number | undefined {
    return this.#read(name, 'flags', 16);
  }

  #read(name: string, file: string, radix: number): number | undefined {
    try {
      const n = Number.parseInt(readFileSync(join(this.sysRoot, 'sys/class/net', name, file), 'utf8').trim(), radix);
      return Number.isNaN(n) ? undefined : n;
    } catch {
      return undefined;
    }
  }
}

function pickIpv6(name: string, addrs: readonly { family: string; address: string }[]): string | undefined {
  const v6 = addrs.filter((a) => a.family === 'IPv6').map((a) => a.address);
  const routable = v6.find((a) => !a.toLowerCase().startsWith('fe80:'));
  if (routable) return routable;
  const local = v6[0];
  return local === undefined ? undefined : `${local}%${name}`;
}

/** A fixed, mutable list for tests. */
export class StaticInterfaces implements InterfaceSource {
  constructor(public interfaces: NetInterface[]) {}
  list(): NetInterface[] {
    return this.interfaces;
  }
}

/**
 * The interfaces to use: those named in `wanted`, or every up, multicast-capable, non-loopback
 * interface; loopback only when it is all there is (a development machine, a test namespace).
 */
export function selectInterfaces(all: readonly NetInterface[], wanted: readonly string[] | 'auto'): NetInterface[] {
  const usable = all.filter((i) => i.up && i.multicast);
  if (wanted !== 'auto') return usable.filter((i) => wanted.includes(i.name));
  const external = usable.filter((i) => !i.loopback);
  return external.length > 0 ? external : usable.filter((i) => i.loopback);
}
