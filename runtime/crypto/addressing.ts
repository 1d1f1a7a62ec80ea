// The address rule: which datagrams may tell this device where their sender is. The core takes
// a member's address from the source of the datagrams it hears from it, and a source address is
// whatever the datagram's last hop wrote: an outsider who captured a sealed datagram can send
// it again from anywhere. So the source counts only for datagrams that cannot have been
// redirected, judged by the recipient mark inside the seal (runtime/wire/recipient.ts) and by
// the socket the datagram came through (the transport tells group traffic from direct traffic
// by port, runtime/net/udp-transport.ts):
//
// | mark                    | through       | kept?                    | source is the sender's address? |
// |-------------------------|---------------|--------------------------|---------------------------------|
// | this device             | direct        | yes                      | yes                             |
// | the group               | the group     | yes                      | only if it is the newest datagram from its sender here |
// | nobody known (a seed)   | direct        | yes                      | no (a member first met this way takes it: there is no other) |
// | another device          | any           | no: `wrong-recipient`    |                                 |
// | anything else           | the other way | no: `wrong-recipient`    |                                 |
// | none (an older sender)  | any           | yes                      | yes, as before the mark existed |
//
// A group datagram can still be replayed from a spoofed source to the group port of a device
// that lost the original; it moves the sender's address there only if nothing later from the
// sender has reached that device, and the sender's next datagram moves it back.

import type { Recipient } from '../wire/recipient.js';

/** How a kept datagram was addressed. */
export type Addressing = 'self' | 'group' | 'unaddressed' | 'unmarked';

/** How a datagram naming `recipient` and received `viaGroup` was addressed here; undefined: drop it as `wrong-recipient`. */
export function addressingOf(recipient: Recipient | 'invalid' | undefined, selfTag: number, viaGroup: boolean): Addressing | undefined {
  if (recipient === undefined) return 'unmarked';
  if (recipient === 'invalid') return undefined;
  switch (recipient.kind) {
    case 'member':
      return recipient.tag === selfTag && !viaGroup ? 'self' : undefined;
    case 'group':
      return viaGroup ? 'group' : undefined;
    case 'unaddressed':
      return viaGroup ? undefined : 'unaddressed';
  }
}

/** Whether the datagram's source address is its sender's address. `newest`: nothing later from its sender has arrived here. */
export function sourceIsSenderAddress(a: Addressing, newest: boolean): boolean {
  switch (a) {
    case 'self':
    case 'unmarked':
      return true;
    case 'group':
      return newest;
    case 'unaddressed':
      return false;
  }
}
