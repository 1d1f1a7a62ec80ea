// Timing profiles. Each value says why it is what it is; change one only with a simulation run
// (npm run bench:sim) that shows the effect on detection time, false positives and bandwidth.

export interface Profile {
  readonly name: string;
  /** Shortest heartbeat interval. Detection time is a small multiple of it. */
  readonly heartbeatMinMs: number;
  /**
   * Heartbeats per second the whole segment may carry. With multicast every node hears every
   * heartbeat, so the interval grows with the fleet: interval = max(min, 1000 * N / rate).
   * This caps what each device must receive and decode per second, whatever the fleet size.
   */
  readonly segmentHeartbeatsPerS: number;
  /** Without multicast, each heartbeat goes to this many random peers (and gossip relays the rest). */
  readonly unicastFanout: number;
  /**
   * A peer is locally suspected after k intervals of silence, where k solves loss^k = this
   * (loss measured from heartbeat sequence gaps). Smaller = fewer probe rounds on a lossy link.
   */
  readonly silenceProbability: number;
  /** Bounds on k, whatever the measured loss. */
  readonly silenceMinIntervals: number;
  readonly silenceMaxIntervals: number;
  /** How long to wait for an Ack to a direct or indirect probe. A few LAN round trips, plus a busy Pi. */
  readonly probeTimeoutMs: number;
  /**
   * Without multicast, liveness comes from SWIM probing instead of heartbeat silence: one member
   * probed per this interval, round-robin, so each member is probed about once per interval
   * fleet-wide whatever N is.
   */
  readonly probeIntervalMs: number;
  /** Direct pings sent before giving up on a direct probe (each reaches the target independently). */
  readonly directPings: number;
  /** Members asked to probe on our behalf (SWIM ping-req), for paths that avoid our own bad link. */
  readonly indirectProbes: number;
  /** Lifeguard suspicion bounds: the timeout starts at max and shrinks toward min as independent confirmations arrive. */
  readonly suspicionMinMs: number;
  readonly suspicionMaxMs: number;
  /** Confirmations at which the suspicion timeout reaches its minimum. */
  readonly suspicionConfirmations: number;
  /** Ceiling of the local-health score (Lifeguard "awareness"); timeouts scale by (1 + score). */
  readonly awarenessMax: number;
  /** Interval of scuttlebutt anti-entropy rounds with one random peer. */
  readonly antiEntropyMs: number;
  /** Every this many rounds, sync even when view hashes agree (hashes are 32-bit; cheap insurance). */
  readonly fullSyncEvery: number;
  /** When a fresh change is repeated, relative to the first send. Repeats cover loss before anti-entropy must. */
  readonly repeatOffsetsMs: readonly number[];
  /** How long dead and left members are remembered before garbage collection. */
  readonly deadRetentionMs: number;
  /** How long a deletion is remembered so that lagging peers learn of it. */
  readonly tombstoneRetentionMs: number;
  /** Byte budget per datagram: 1200 keeps IPv6 (min MTU 1280) from ever fragmenting. */
  readonly datagramBudget: number;
  /**
   * Live keys one device may hold, in its own store and in every replica. Every device holds a
   * copy of every other's keys, so without a cap one device that holds the fleet key could fill
   * every device's memory. 256 is tens of sensors, states and hints with room to spare.
   */
  readonly ownerMaxKeys: number;
  /**
   * Bytes of keys and values one device may hold (UTF-8; numbers count 8). 64 KiB per device
   * keeps a fleet of 128 under 8 MiB of replicas on a Pi Zero; a typical device holds under 4 KiB.
   */
  readonly ownerMaxBytes: number;
  /**
   * Members counted for this node's heartbeat interval at most. Identities cost a device that
   * holds the fleet key nothing (runtime/trust caps how fast it can make them), so the count
   * that slows everyone's heartbeat is capped: 1024 at 512 heartbeats/s is 2 s (8 s on Wi-Fi).
   */
  readonly maxFleetSize: number;
  /**
   * A member's advertised interval is believed up to this many times our own, and never above
   * maxAdvertisedIntervalMs. An honest member's interval follows the same fleet size as ours;
   * the margin covers a member that sees more of the fleet than we do. The cap bounds how long
   * silence takes to notice, so one forged heartbeat keeps a dead device alive seconds, not days.
   */
  readonly advertisedIntervalFactor: number;
  readonly maxAdvertisedIntervalMs: number;
}

/**
 * Wired LAN: sub-millisecond RTT, loss mostly from congestion. Aims at detection within ~2 s
 * at 10% loss for 128 nodes while each node receives at most ~512 heartbeats a second.
 */
const lan: Profile = {
  name: 'lan',
  heartbeatMinMs: 250,
  segmentHeartbeatsPerS: 512,
  unicastFanout: 3,
  silenceProbability: 1e-4,
  silenceMinIntervals: 3,
  silenceMaxIntervals: 16,
  probeTimeoutMs: 200,
  probeIntervalMs: 1_000,
  directPings: 2,
  indirectProbes: 3,
  suspicionMinMs: 500,
  suspicionMaxMs: 6_000,
  suspicionConfirmations: 3,
  awarenessMax: 8,
  antiEntropyMs: 1_000,
  fullSyncEvery: 10,
  repeatOffsetsMs: [0, 30, 80, 150, 240],
  deadRetentionMs: 60 * 60_000,
  tombstoneRetentionMs: 10 * 60_000,
  datagramBudget: 1200,
  ownerMaxKeys: 256,
  ownerMaxBytes: 64 * 1024,
  maxFleetSize: 1024,
  advertisedIntervalFactor: 4,
  maxAdvertisedIntervalMs: 10_000,
};

/**
 * Wi-Fi: multicast goes out at the basic rate and costs airtime for every station, RTTs of
 * tens of ms with power-save stalls of hundreds. Halve the heartbeat rate, wait longer.
 */
const wifi: Profile = {
  name: 'wifi',
  heartbeatMinMs: 500,
  segmentHeartbeatsPerS: 128,
  unicastFanout: 3,
  silenceProbability: 1e-5,
  silenceMinIntervals: 4,
  silenceMaxIntervals: 20,
  probeTimeoutMs: 600,
  probeIntervalMs: 2_000,
  directPings: 2,
  indirectProbes: 3,
  suspicionMinMs: 1_500,
  suspicionMaxMs: 15_000,
  suspicionConfirmations: 3,
  awarenessMax: 8,
  antiEntropyMs: 2_000,
  fullSyncEvery: 10,
  repeatOffsetsMs: [0, 60, 180, 400, 700],
  deadRetentionMs: 60 * 60_000,
  tombstoneRetentionMs: 10 * 60_000,
  datagramBudget: 1200,
  ownerMaxKeys: 256,
  ownerMaxBytes: 64 * 1024,
  maxFleetSize: 1024,
  advertisedIntervalFactor: 4,
  maxAdvertisedIntervalMs: 10_000,
};

export const profiles: Readonly<Record<'lan' | 'wifi', Profile>> = { lan, wifi };

export function profileByName(name: string): Profile {
  if (name === 'lan' || name === 'wifi') return profiles[name];
  throw new Error(`unknown profile "${name}": expected "lan" or "wifi"`);
}

export function withOverrides(base: Profile, overrides: Partial<Profile>): Profile {
  return { ...base, ...overrides };
}
