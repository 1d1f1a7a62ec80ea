// The protocol's vocabulary. The wire codec (runtime/wire) turns these into CBOR and back;
// the core only ever sees validated values of these shapes.
//
// Message type numbers only ever grow: a number, once shipped, keeps its meaning forever so
// that mixed-version fleets can skip what they do not understand (memberlist does the same).

/** A node's stable name within the fleet (configured, or derived at provisioning). */
export type NodeId = string;

/**
 * Opaque transport address of a node ("192.0.2.4:7946", "[fe80::1%eth0]:7946", "sim:n007").
 * The core never parses it; it only hands it back to the transport.
 */
export type Address = string;

/**
 * One life of a node. `gen` comes from a boot counter persisted on the device (never from the
 * wall clock: a Pi without an RTC boots in 1970), so a restarted node always has a higher gen
 * and everything remembered about its previous life loses to it.
 */
export interface NodeRef {
  readonly id: NodeId;
  readonly gen: number;
}

/** A published value. `null` is never a value: it marks a tombstone on the wire. */
export type Value = string | number | boolean | Uint8Array;

export const MsgType = {
  Heartbeat: 1,
  Ping: 2,
  Ack: 3,
  PingReq: 4,
  Suspect: 5,
  Dead: 6,
  Leave: 7,
  Digest: 8,
  Delta: 9,
  Passport: 10,
  WhoIs: 11,
  Query: 12,
  QueryReply: 13,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** Wire encoding of a member's status; ordered so that a higher number wins at equal (gen, inc). */
export const StatusCode = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
/** A status as digests carry it. */
export type WireStatus = keyof typeof StatusCode;
/**
 * A member's status at one observer. `unreliable` is that observer's own verdict (runtime/core/
 * reliability.ts): alive, but it went silent long enough to be suspected and came back, so it is
 * given longer silences until its datagrams arrive as reliably as the fleet's. Digests say `alive`
 * for it: each observer judges reliability from what reaches it.
 */
export type MemberStatus = WireStatus | 'unreliable';
/**
 * What this node concludes about a member, for operators: its status with a suspicion folded into
 * the verdict it had before. A suspicion is the detector asking the member to answer for a
 * silence (about a second on a LAN); most end with the member answering, and an alert for each
 * would be noise. Hooks, MQTT availability and the flap figures follow verdicts, and log lines
 * carry them; `members --explain`, the API and the fleet page still show who is suspected,
 * by whom, and until when.
 */
export type Verdict = Exclude<MemberStatus, 'suspect'>;

/**
 * "I am alive." Multicast to the segment every heartbeat interval (or unicast to a few peers when
 * multicast is unavailable). It doubles as the refutation of a suspicion: a higher `inc` clears it.
 */
export interface Heartbeat {
  readonly type: typeof MsgType.Heartbeat;
  readonly from: NodeRef;
  /** Incarnation within this generation; bumped only to refute a suspicion. */
  readonly inc: number;
  /** Heartbeat counter within this generation; gaps tell receivers how much they lose. */
  readonly seq: number;
  /** The sender's current heartbeat interval, so receivers know how long silence may last. */
  readonly intervalMs: number;
  /** Highest version of the sender's own key/value state; receivers that are behind pull. */
  readonly kvMax: number;
  /** 32-bit hash of the sender's membership view; a mismatch triggers anti-entropy. */
  readonly view: number;
  /**
   * Set on a heartbeat sent directly because the sender does not hear the receiver's
   * multicast: "heartbeat to me directly too". Encoded only when true (a trailing field).
   */
  readonly unicastMe?: boolean;
}

/** Direct probe. `probe` is the sender's sequence number, echoed in the Ack. */
export interface Ping {
  readonly type: typeof MsgType.Ping;
  readonly from: NodeRef;
  readonly target: NodeRef;
  readonly probe: number;
}

/**
 * Answer to a Ping. `from` is the node whose liveness the Ack proves; when an intermediary
 * forwards an indirect Ack, the datagram's source is the intermediary but `from` stays the target.
 */
export interface Ack {
  readonly type: typeof MsgType.Ack;
  readonly from: NodeRef;
  readonly probe: number;
  readonly inc: number;
}

/** "Please ping `target` at `targetAddr` for me and forward its Ack" (SWIM indirect probe). */
export interface PingReq {
  readonly type: typeof MsgType.PingReq;
  readonly from: NodeRef;
  readonly target: NodeRef;
  readonly targetAddr: Address;
  readonly probe: number;
}

/** `from` accuses `target` (at incarnation `inc`) of being unreachable from where it stands. */
export interface Suspect {
  readonly type: typeof MsgType.Suspect;
  readonly from: NodeRef;
  readonly target: NodeRef;
  readonly inc: number;
  /** The accuser's signature (runtime/trust): relays cannot forge another device's accusation. */
  readonly sig?: Uint8Array;
}

/** `from` has concluded, on its own evidence plus at least one other source, that `target` is dead. */
export interface Dead {
  readonly type: typeof MsgType.Dead;
  readonly from: NodeRef;
  readonly target: NodeRef;
  readonly inc: number;
  readonly sig?: Uint8Array;
}

/** Graceful goodbye, sent by the leaving node itself. */
export interface Leave {
  readonly type: typeof MsgType.Leave;
  readonly from: NodeRef;
  readonly inc: number;
}

/** One member as the digest's sender knows it. */
export interface DigestEntry {
  readonly id: NodeId;
  readonly gen: number;
  readonly inc: number;
  readonly status: WireStatus;
  /** Highest heartbeat seq the sender has seen from this member (liveness relayed second-hand). */
  readonly hb: number;
  /** Highest version of this member's key/value state that the sender holds, complete from 0. */
  readonly kvMax: number;
  readonly addr: Address;
}

/**
 * Scuttlebutt digest: a slice of the sender's view, covering member ids in [lo, hi] (sorted
 * order). The receiver may conclude the sender lacks any member inside that range it did not
 * list. `reply` asks the receiver to answer with its own digest of the same range.
 */
export interface Digest {
  readonly type: typeof MsgType.Digest;
  readonly from: NodeRef;
  readonly lo: NodeId;
  readonly hi: NodeId;
  readonly reply: boolean;
  readonly entries: readonly DigestEntry[];
}

/** A key's state as its owner published it. `value === null` is a tombstone. */
export interface KvEntry {
  readonly key: string;
  readonly version: number;
  readonly value: Value | null;
  /** 0 = no expiry; otherwise the value lapses this long after a receiver learned it. */
  readonly ttlMs: number;
  /**
   * The owner's signature over (owner, generation, key, version, value, ttl), made when it wrote
   * the entry and carried verbatim by every relay, so no relay can alter or invent it. The core
   * stores and forwards it without looking inside.
   */
  readonly sig?: Uint8Array;
}

/**
 * Part of one owner's key/value state. The entries are exactly the owner's live entries (and
 * tombstones) with versions in (fromV, toV], so a receiver that already holds everything up to
 * fromV holds everything up to toV after applying it. `reset` means the receiver's copy is too
 * old to patch (tombstones it missed were purged): drop it and rebuild from this chunk.
 */
export interface Delta {
  readonly type: typeof MsgType.Delta;
  readonly from: NodeRef;
  readonly owner: NodeRef;
  readonly fromV: number;
  readonly toV: number;
  readonly reset: boolean;
  readonly entries: readonly KvEntry[];
}

/**
 * A device's signed statement of who it is in one life: its public key (with the fleet admin's
 * certificate when the fleet has one), generation, incarnation, and whether it has left. Only
 * the device can make one; anyone may forward it. The host checks every claim a message makes
 * about a member (a restart, a refutation, a goodbye) against these before the core sees it;
 * the core itself ignores passports.
 */
export interface Passport {
  readonly type: typeof MsgType.Passport;
  readonly id: NodeId;
  readonly gen: number;
  readonly inc: number;
  readonly left: boolean;
  readonly publicKey: Uint8Array;
  readonly cert: Uint8Array | null;
  readonly sig: Uint8Array;
}

/** "Send me the passports of these members": a message named them and this node could not check them. Host-level. */
export interface WhoIs {
  readonly type: typeof MsgType.WhoIs;
  readonly from: NodeRef;
  readonly ids: readonly NodeId[];
}

/**
 * A question to the fleet (queries.ts), spread like news and answered by every device whose id
 * starts with `prefix`. (from, qid) names it; each device hears it once. Signed by the asker.
 */
export interface Query {
  readonly type: typeof MsgType.Query;
  readonly from: NodeRef;
  /** The asker's number for it, unique within its life. */
  readonly qid: number;
  readonly name: string;
  /** Opaque to murmur: handed to whatever answers the query. */
  readonly payload: Uint8Array;
  /** Only devices whose id starts with this answer ("" for all). */
  readonly prefix: string;
  /** How long the asker waits; an answer later than this is not sent. */
  readonly timeoutMs: number;
  readonly sig?: Uint8Array;
}

/** How a device answered a query. */
export const ReplyStatus = { ok: 0, error: 1, unknown: 2 } as const;
export type ReplyStatus = keyof typeof ReplyStatus;

/** One device's answer to a query, sent straight to the asker. Signed by the replier. */
export interface QueryReply {
  readonly type: typeof MsgType.QueryReply;
  readonly from: NodeRef;
  readonly asker: NodeRef;
  readonly qid: number;
  readonly status: ReplyStatus;
  readonly body: Uint8Array;
  readonly sig?: Uint8Array;
}

export type Message = Heartbeat | Ping | Ack | PingReq | Suspect | Dead | Leave | Digest | Delta | Passport | WhoIs | Query | QueryReply;
