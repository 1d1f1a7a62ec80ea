// Datagrams and bytes in and out, by message type. A datagram packs several messages, so it is
// counted once, under its lead message: the first one that is not a passport (a passport rides
// ahead of the messages it proves). Measuring each message's encoded size would cost an encode
// per message on every datagram, which a Pi Zero cannot spare for a counter.

import { MsgType, type Message } from '../core/messages.js';

/** Index 0: sealed control frames (keyring offers), which carry no protocol message. */
export const CONTROL = 0;

export class TrafficCounters {
  /** Indexed by MsgType (CONTROL for control frames); arrays because they are bumped per datagram. */
  readonly datagramsIn: number[] = [];
  readonly bytesIn: number[] = [];
  readonly datagramsOut: number[] = [];
  readonly bytesOut: number[] = [];

  received(type: number, bytes: number): void {
    this.datagramsIn[type] = (this.datagramsIn[type] ?? 0) + 1;
    this.bytesIn[type] = (this.bytesIn[type] ?? 0) + bytes;
  }

  sent(type: number, bytes: number): void {
    this.datagramsOut[type] = (this.datagramsOut[type] ?? 0) + 1;
    this.bytesOut[type] = (this.bytesOut[type] ?? 0) + bytes;
  }
}

/** The type a datagram is counted under; undefined when it carries no message. */
export function leadType(msgs: readonly Message[]): number | undefined {
  for (const m of msgs) if (m.type !== MsgType.Passport) return m.type;
  return msgs[0]?.type;
}
