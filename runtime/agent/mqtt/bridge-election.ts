// Which device bridges the fleet to the broker. Every device with MQTT configured and its
// broker reachable says so in a reserved key of its own (BRIDGE_KEY): "<broker tag>" when it
// could bridge, "<broker tag>:active" while it does. The bridge is the lowest id among the
// active members murmur counts as up, or, when none is active, among the ready ones. Every
// device computes the same answer from the same membership, so there is one bridge without
// any vote. A device that joins later does not take over from one already bridging (no double
// publishing while a newcomer settles in); when the bridge dies, the others pick the next
// ready one as soon as they declare it dead, which is the whole hand-over. Two bridges after a
// partition heals see each other's "active" and the higher id steps down.

import { createHash } from 'node:crypto';
import { RESERVED_PREFIX } from '../../core/reserved-keys.js';

export const BRIDGE_KEY = `${RESERVED_PREFIX}mqtt-bridge`;

export type BridgeState = 'ready' | 'active';

export interface Candidate {
  readonly id: string;
  readonly status: string;
  /** The live value of its BRIDGE_KEY, if any. */
  readonly value: unknown;
}

/** The broker's identity without its credentials: devices with different brokers do not compete. */
export function brokerTag(url: string): string {
  const u = new URL(url);
  return createHash('sha256').update(`${u.protocol}//${u.hostname}:${u.port}`).digest('hex').slice(0, 12);
}

export function bridgeValue(tag: string, state: BridgeState): string {
  return state === 'active' ? `${tag}:active` : tag;
}

/**
 * The bridge among `self` (in `selfState`, undefined when it cannot bridge) and `members`, or
 * undefined when none can bridge. A member marked dead or left has lost its turn; suspect and
 * anything milder keep it, so a passing suspicion never makes two bridges.
 */
export function chooseBridge(self: string, selfState: BridgeState | undefined, tag: string, members: Iterable<Candidate>): string | undefined {
  let active: string | undefined = selfState === 'active' ? self : undefined;
  let ready: string | undefined = selfState !== undefined ? self : undefined;
  for (const m of members) {
    if (m.status === 'dead' || m.status === 'left') continue;
    if (m.value === bridgeValue(tag, 'active')) {
      if (active === undefined || m.id < active) active = m.id;
    } else if (m.value !== tag) continue;
    if (ready === undefined || m.id < ready) ready = m.id;
  }
  return active ?? ready;
}
