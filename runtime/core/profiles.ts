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
  /**
   * A probe has at least directPings and indirectProbes, and more, up to the maxima, while a live
   * member would fail it with more than this probability at the measured loss.
   */
  readonly probeMissProbability: number;
  readonly maxDirectPings: number;
  readonly maxIndirectProbes: number;
  /** Lifeguard suspicion bounds: the timeout starts at max and shrinks toward min as independent confirmations arrive. */
  readonly suspicionMinMs: number;
  readonly suspicionMaxMs: number;
  /** Confirmations at which the suspicion timeout reaches its minimum. */
  readonly suspicionConfirmations: number;
  /**
   * Longest silence an unreliable member (one that came back after being suspected or declared
   * dead) is given before it is probed, and longest it stays unreliable after coming back.
   * A truly dead unreliable device is declared dead this long plus a probe and a suspicion
   * after its last word.
   */
  readonly unreliableSilenceMaxMs: number;
  /** Ceiling of the local-health score (Lifeguard "awareness"); timeouts scale by (1 + score). */
  readonly awarenessMax: number;
  /** Interval of scuttlebutt anti-entropy rounds with one random peer. */
  readonly antiEntropyMs: number;
  /** Every this many rounds, sync even when view hashes agree (hashes are 32-bit; cheap insurance). */
  readonly fullSyncEvery: number;
  /** When a fresh change is repeated, relative to the first send. Repeats cover loss before anti-entropy must. */
  readonly repeatOffsetsMs: readonly number[];
  /** A fresh change is sent often enough that a receiver misses every copy with at most this probability. */
  readonly repeatMissProbability: number;
  /** How long dead and left members are remembered before garbage collection. */
  readonly deadRetentionMs: number;
  /** How long a deletion is remembered so that lagging peers learn of it. */
  readonly tombstoneRetentionMs: number;
  /** Byte budget per datagram: 1200 keeps IPv6 (min MTU 1280) from ever fragmenting. */
  readonly datagramBudget: number;

  // Tuning shared by every profile (see `common` below for the values and their reasons).
  /** The first heartbeat after start comes at a random time within this many ms. */
  readonly startStaggerMs: number;
  /** Heartbeats after start that come at a random fraction of the interval (the join burst). */
  readonly joinBurstHeartbeats: number;
  /** A join-burst heartbeat comes after interval x (minFraction + spreadFraction x u), u uniform in [0, 1). */
  readonly joinBurstMinFraction: number;
  readonly joinBurstSpreadFraction: number;
  /** Never closer together than this, however short the interval. */
  readonly joinBurstMinMs: number;
  /** Jitter (±fraction) of the heartbeat interval after the join burst. */
  readonly heartbeatJitter: number;
  /** Jitter (±fraction) of the first anti-entropy round after start, and of the later ones. */
  readonly antiEntropyStartJitter: number;
  readonly antiEntropyJitter: number;
  /** Jitter (±fraction) of the probe round interval without multicast. */
  readonly probeRoundJitter: number;
  /**
   * The silence sweep's regular pace: this many times per heartbeat interval, within [sweepMinMs,
   * sweepMaxMs]. It keeps this pace while a member is suspect or unreliable, the node hears
   * nobody, or probe rounds drive liveness (no multicast); otherwise it runs when a member's
   * silence would pass its limit, at most one heartbeat interval apart (periodic.ts scheduleSweep).
   */
  readonly sweepsPerHeartbeat: number;
  readonly sweepMinMs: number;
  readonly sweepMaxMs: number;
  /** A periodic timer that fires within this much of its due time counts as on time. */
  readonly timerSlackMs: number;
  /** A periodic timer this late (ms) means the node itself was stalled. */
  readonly stallMs: number;
  /** After a stall, heartbeats advertise an interval that allows for it for this long (ms). */
  readonly stallSlackHoldMs: number;
  /** How long past the join's end a stall in the join keeps its slack (ms). */
  readonly joinStallHoldMs: number;
  /** A joining node asks members to allow a stall this long (membership.ts stallSlack). */
  readonly joinStallMs: number;
  /** A node joins until it has met no new member for this long, and at most stallSlackHoldMs. */
  readonly joinQuietMs: number;
  /** A node that hears none of at least this many members blames its own link (isolation.ts). */
  readonly deafToAllMinMembers: number;
  /** For at most this long (ms); then members' silence counts again. */
  readonly deafToAllMaxMs: number;
  /** Interval of the housekeeping tick (loss decay, own TTL expiry, retention). */
  readonly gcIntervalMs: number;
  /** Dead and left members are collected every this many housekeeping ticks. */
  readonly memberGcEvery: number;
  /** Replica tombstones are purged every this many housekeeping ticks. */
  readonly replicaGcEvery: number;
  /** The loss estimate keeps this fraction of its samples at each housekeeping tick. */
  readonly lossDecay: number;
  /** Loss assumed until the estimate holds this many expected heartbeats' worth of samples. */
  readonly lossPrior: number;
  readonly lossMinSamples: number;
  /** A sequence gap counts as at most this many lost heartbeats. */
  readonly lossMaxGap: number;
  /** Deltas sent per anti-entropy exchange at most; the rest waits for the next round. */
  readonly maxDeltaChunks: number;
  /** Deltas of our own fresh changes queued at most; the rest is left to anti-entropy. */
  readonly ownDeltaChunks: number;
  /** Datagrams of our view handed to a node that joins through us. */
  readonly joinViewDatagrams: number;
  /** Members looked at per anti-entropy round when choosing a peer whose view differs. */
  readonly antiEntropySample: number;
  /**
   * A member whose heartbeats have not come through the group for this many more intervals than
   * the silence threshold is taken to be unreachable by multicast, and we heartbeat to it directly.
   */
  readonly deafExtraIntervals: number;
  /** A direct heartbeat asks for direct heartbeats back for this many of our intervals (renewed by each one). */
  readonly unicastLeaseIntervals: number;
  /** A member we hold suspect or dead is told so at most once per this many probe timeouts. */
  readonly notifyEveryProbeTimeouts: number;
  /** First-hand contact within this fraction of the silence threshold outweighs another node's accusation. */
  readonly freshEvidenceFraction: number;
  /** Weight of the newest gap in the smoothed time between a member's heartbeat advances. */
  readonly progressGapWeight: number;
  /** Before any advance is seen, a member's heartbeats are expected this many intervals apart. */
  readonly initialProgressGapIntervals: number;
  /** A heartbeat carries news due within this many ms, saving it a datagram of its own. */
  readonly heartbeatNewsSlackMs: number;
  /** A flush sends news due within this many ms along with what is due now. */
  readonly flushSlackMs: number;
  /** Transmissions of news relayed without multicast (each relayer adds its own). */
  readonly relayRepeats: number;
  /** Live keys one device may hold, in its own store and in every replica. */
  readonly ownerMaxKeys: number;
  /** Bytes of keys and values one device may hold (UTF-8; numbers count 8). */
  readonly ownerMaxBytes: number;
  /** Weight of one expected heartbeat in a member's smoothed delivery fraction. */
  readonly deliveryWeight: number;
  /** A gap in a member's heartbeat sequence counts as at most this many lost heartbeats for its delivery fraction. */
  readonly deliveryMaxGap: number;
  /** An unreliable member gets this many times the longest silence it came back from, before it is probed and before it is alive again. */
  readonly unreliableOutageFactor: number;
  /** An unreliable member is alive again once the loss of its heartbeats is within this of the fleet's. */
  readonly unreliableLossMargin: number;
  /** Members counted for this node's heartbeat interval at most. */
  readonly maxFleetSize: number;
  /** A member's advertised interval is believed up to this many times our own, and never above maxAdvertisedIntervalMs. */
  readonly advertisedIntervalFactor: number;
  readonly maxAdvertisedIntervalMs: number;
}

/** Tuning that does not depend on the medium; every profile takes these values. */
const common = {
  // Heartbeats of a fleet powered on by one switch would otherwise go out in lock-step
  // forever; 20 ms spreads them over many send slots without delaying the join.
  startStaggerMs: 20,
  // Six fast heartbeats: all six are lost at 30% loss with probability 0.3^6 < 0.1%, so a
  // fresh fleet meets within a few intervals instead of waiting for anti-entropy.
  joinBurstHeartbeats: 6,
  // Burst heartbeats land between 15% and 45% of an interval: about three times the normal
  // rate, and random enough that nodes started together drift out of phase.
  joinBurstMinFraction: 0.15,
  joinBurstSpreadFraction: 0.3,
  // A floor so a burst never becomes a tight loop when the interval is short.
  joinBurstMinMs: 20,
  // ±10% keeps heartbeats out of phase without making silence thresholds imprecise.
  heartbeatJitter: 0.1,
  // The first round is spread over ±50% of an interval so a fleet started together does not
  // exchange all its digests at once; later rounds need only ±20% to stay apart.
  antiEntropyStartJitter: 0.5,
  antiEntropyJitter: 0.2,
  // Same reason as heartbeatJitter: probe rounds of nodes started together stay apart.
  probeRoundJitter: 0.1,
  // While something is watched closely, four sweeps per interval see a suspicion's shrinking
  // timeout or an unreliable member's recovery within a quarter interval; 50 ms keeps a small
  // fleet's sweep cheap, 500 ms keeps a large fleet's verdicts prompt.
  sweepsPerHeartbeat: 4,
  sweepMinMs: 50,
  sweepMaxMs: 500,
  // Hosts may fire a timer a millisecond early (rounding of real timers).
  timerSlackMs: 1,
  // A quarter second late is far beyond scheduling noise: the process itself was stalled
  // (GC pause, swapping, an overloaded device), so silence seen now is our own.
  stallMs: 250,
  // A node that stalled once (an overloaded board, a slow SD card) is likely to stall again
  // soon: for a minute it advertises a heartbeat interval long enough that members allow a
  // stall as long as its longest before they suspect it. Its death is then noticed later; its
  // stalls are not taken for one.
  stallSlackHoldMs: 60_000,
  // A join is the most work a node ever does: every member's passport checked, full syncs,
  // code not yet compiled. A small board stalls in it, and its first stall comes before any
  // heartbeat of its has asked for slack (after it, periodic.ts noteStall asks). So while it
  // meets new members, and 2 s after, it asks for the slack of a 4 s stall (in the lan profile
  // the most members believe: 1 s between heartbeats). A fleet started together has met
  // within a second; a device that dies in its own join is noticed a few seconds later.
  joinStallMs: 4_000,
  joinQuietMs: 2_000,
  // A stall in the join is mostly the join's own work, which does not come back: held for 15 s
  // past the join's end, not a whole stallSlackHoldMs, so a fleet started together notices
  // deaths at its usual pace soon after. A board that stalls again meanwhile is held for the
  // full minute from that stall.
  joinStallHoldMs: 15_000,
  // Two members silent at once can be two deaths; three at the same moment, and not one of
  // them heard, is far likelier our own link.
  deafToAllMinMembers: 3,
  // Once a second: TTL expiry and the loss estimate need no finer resolution.
  gcIntervalMs: 1_000,
  // Dead-member retention is an hour: every five seconds is plenty.
  memberGcEvery: 5,
  // Tombstone retention is ten minutes: once a minute is plenty.
  replicaGcEvery: 60,
  // Loses about 10% of its weight a second: the estimate follows a link that changes within
  // tens of seconds but does not swing on one bad second.
  lossDecay: 0.9,
  // Until twenty heartbeats have been seen, assume a lossy link rather than a perfect one:
  // a node that just booted waits a little longer before suspecting anyone, never shorter.
  lossPrior: 0.2,
  lossMinSamples: 20,
  // A bigger gap is a peer that paused (or our own long outage), not loss to extrapolate from.
  lossMaxGap: 32,
  // Four datagrams per exchange repair a large gap within a few rounds while one exchange
  // stays a small burst for a slow receiver.
  maxDeltaChunks: 4,
  // Eight datagrams of fresh changes per repeat; a bigger burst of writes is left to anti-entropy.
  ownDeltaChunks: 8,
  // A digest datagram lists about 18 members, so eight hand a joiner about 140: a typical
  // fleet at once, and a bounded burst for the seed.
  joinViewDatagrams: 8,
  // Eight samples keep a round O(1) in fleet size; a persistent difference is found within a few rounds.
  antiEntropySample: 8,
  // Two intervals beyond the silence threshold: long enough that loss alone rarely looks
  // like a deaf group, short enough that the fallback starts before probing costs much.
  deafExtraIntervals: 2,
  // Eight intervals outlast a few lost direct heartbeats, so a lease is renewed before it
  // lapses while the peer still cannot hear the group.
  unicastLeaseIntervals: 8,
  // The profiles' three pings and four helpers reach this at 10% loss. At 30% they would fail a
  // live member one probe in 23: with some four loss-driven silences a second in a fleet of 128,
  // a false suspicion every few seconds. Eight and eight bring that to one in 2,000; the extra
  // datagrams go out only on a silence, in the probe's second stage, so detection is no slower.
  probeMissProbability: 1e-4,
  maxDirectPings: 8,
  maxIndirectProbes: 8,
  // Five probe timeouts: a refutation has time to arrive before we repeat ourselves.
  notifyEveryProbeTimeouts: 5,
  // Contact within 80% of the silence threshold is recent enough that the accuser, not the
  // member, is the one with the bad link: another node's word counts only once we have missed
  // about as many heartbeats as would make us probe ourselves. Half the threshold (two missed
  // heartbeats at 10% loss, a 1% chance) would let one unlucky accuser turn a few more observers of
  // a healthy member suspect; a dead member's silence is past the whole threshold anyway by
  // the time an accusation arrives (the accuser's silence plus its probe).
  freshEvidenceFraction: 0.8,
  // An exponential average over about five gaps: steady, yet follows a changing fleet.
  progressGapWeight: 0.2,
  // Until measured, expect news of a member's heartbeats slowly (it comes second-hand without
  // multicast), so a new member is not suspected before the average settles.
  initialProgressGapIntervals: 4,
  // News due within 20 ms rides on the heartbeat instead of costing a datagram of its own.
  heartbeatNewsSlackMs: 20,
  // A flush also takes news due within 5 ms, so repeats close together share a datagram.
  flushSlackMs: 5,
  // One receiver in a thousand misses every copy of a fresh change and waits for the repair
  // (a pull on the owner's next heartbeat, or anti-entropy): rare enough that updates arrive
  // in milliseconds, and only two sends while the measured loss is low.
  repeatMissProbability: 1e-3,
  // Without multicast each relayer sends news twice: every relayer is one more source of
  // it, so a second repeat covers a loss, and more would multiply traffic by the fleet size.
  relayRepeats: 2,
  // Every device holds a copy of every other's keys, so without a cap one device that holds
  // the fleet key could fill every device's memory. 256 is tens of sensors, states and hints
  // with room to spare.
  ownerMaxKeys: 256,
  // 64 KiB per device keeps a fleet of 128 under 8 MiB of replicas on a Pi Zero; a typical
  // device holds under 4 KiB.
  ownerMaxBytes: 64 * 1024,
  // About ten expected heartbeats of memory: when a device's loss ends, its delivery climbs
  // back within the fleet's margin in eight to twelve heartbeats (under 4 s on a LAN), while a
  // device still losing 80% of its datagrams must be heard about eight times in a row to pass,
  // which a minute of such loss rarely gives. With seven heartbeats of memory, such lucky runs
  // made it alive and then suspect again at about one observer in 25 (simulator, seeds 7-16).
  deliveryWeight: 0.1,
  // A longer gap is an outage, judged by the silence rules, not loss; without the cap one
  // outage would wipe the estimate and keep a recovered device unreliable for many seconds.
  deliveryMaxGap: 8,
  // One and a half outages: a link that went down for 20 s and came back is given 30 s before
  // it is suspected again, so a flapping link stays one steady "unreliable" instead of dying
  // and coming back every cycle.
  unreliableOutageFactor: 1.5,
  // At 10% fleet loss, an unreliable device is alive again once 70% of its heartbeats arrive.
  unreliableLossMargin: 0.2,
  // Identities cost a device that holds the fleet key nothing (runtime/trust caps how fast it
  // can make them), so the count that slows everyone's heartbeat is capped: 1024 at 512
  // heartbeats/s is 2 s (8 s on Wi-Fi).
  maxFleetSize: 1024,
  // An honest member's interval follows the same fleet size as ours; the margin covers a member
  // that sees more of the fleet than we do. The cap bounds how long silence takes to notice, so
  // one forged heartbeat keeps a dead device alive for seconds, not days.
  advertisedIntervalFactor: 4,
  maxAdvertisedIntervalMs: 10_000,
} as const satisfies Partial<Profile>;

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
  // Three pings and four helpers: at 10% loss a live member fails the whole probe with
  // probability 0.19^3 x 0.34^4 (about 1e-4): of the some 20,000 loss-driven silences an
  // hour in a fleet of 128, about two end in a suspicion, not thirty. Sent only on silence, at
  // no cost to detection time.
  directPings: 3,
  indirectProbes: 4,
  suspicionMinMs: 500,
  suspicionMaxMs: 6_000,
  suspicionConfirmations: 3,
  // Covers a link flapping 20 s down and up (x1.5), and a device at 80% loss judged on half
  // its measured delivery: 88 intervals of silence with probability 1e-4 (22 s at 250 ms).
  unreliableSilenceMaxMs: 30_000,
  // As long as a flapping link is held unreliable without a probe.
  deafToAllMaxMs: 30_000,
  awarenessMax: 8,
  antiEntropyMs: 1_000,
  fullSyncEvery: 10,
  repeatOffsetsMs: [0, 30, 80, 150, 240],
  deadRetentionMs: 60 * 60_000,
  tombstoneRetentionMs: 10 * 60_000,
  datagramBudget: 1200,
  ...common,
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
  // As on a LAN: see there.
  directPings: 3,
  indirectProbes: 4,
  suspicionMinMs: 1_500,
  suspicionMaxMs: 15_000,
  suspicionConfirmations: 3,
  // Twice the LAN's, as every Wi-Fi timeout: heartbeats come half as often.
  unreliableSilenceMaxMs: 60_000,
  deafToAllMaxMs: 60_000,
  awarenessMax: 8,
  antiEntropyMs: 2_000,
  fullSyncEvery: 10,
  repeatOffsetsMs: [0, 60, 180, 400, 700],
  deadRetentionMs: 60 * 60_000,
  tombstoneRetentionMs: 10 * 60_000,
  datagramBudget: 1200,
  ...common,
};

export const profiles: Readonly<Record<'lan' | 'wifi', Profile>> = { lan, wifi };

/**
 * How many accusers of one silence say so to everyone: enough that each of them, hearing only
 * the others, has the confirmations that make its suspicion timeout the shortest. One more
 * voice hastens no verdict, so no more than this many accusers of one statement need checking.
 */
export function accusersPerSilence(profile: Profile): number {
  return profile.suspicionConfirmations + 1;
}

export function profileByName(name: string): Profile {
  if (name === 'lan' || name === 'wifi') return profiles[name];
  throw new Error(`unknown profile "${name}": expected "lan" or "wifi"`);
}

export function withOverrides(base: Profile, overrides: Partial<Profile>): Profile {
  return { ...base, ...overrides };
}
