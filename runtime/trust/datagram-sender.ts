// Who sent a datagram, as far as its messages can tell. The replay header in the nonce
// (runtime/crypto/seal.ts) is written by whoever holds the fleet key, so it proves nothing by
// itself; the host moves a sender's replay window only when the header agrees with the sender
// this function names, after the gatekeeper has admitted the messages (so that sender's id
// and generation are backed by a passport the device signed).
//
// Only messages a node sends about itself, and whose `from` the gatekeeper proves, count:
// heartbeats, probes and probe requests, digests, deltas (the relay is `from`; the owner
// signed the entries) and WhoIs. Messages that travel on someone else's behalf do not: an Ack
// forwarded by an indirect prober keeps the target's `from`, and accusations and goodbyes are
// gossiped onward under their author's signature. A datagram of only those (a WhoIs answer, a
// forwarded Ack) names no sender and moves no window; what it carries is signed by its author
// or harmless to see twice.

import { MsgType, type Message, type NodeRef } from '../core/messages.js';

/** The sender named by a datagram's own messages; undefined when none names it, 'mixed' when they disagree. */
export function datagramSender(msgs: readonly Message[]): NodeRef | undefined | 'mixed' {
  let sender: NodeRef | undefined;
  for (const m of msgs) {
    switch (m.type) {
      case MsgType.Heartbeat:
      case MsgType.Ping:
      case MsgType.PingReq:
      case MsgType.Digest:
      case MsgType.Delta:
      case MsgType.WhoIs:
        if (!sender) sender = m.from;
        else if (sender.id !== m.from.id || sender.gen !== m.from.gen) return 'mixed';
        break;
      default:
        break;
    }
  }
  return sender;
}
