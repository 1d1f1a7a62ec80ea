// The node's Prometheus metrics, built with prom-client (the exposition format is prom-client's,
// never written here). Nearly everything is read when a scrape comes, from the counters the
// layers below already keep (core stats, the host's traffic and refusals, the channel's drops,
// the gatekeeper's refusals, the transport, the keyring, the sensors and the LEDs), so a node
// nobody scrapes pays nothing. Only what no layer counts is counted here, from the core's
// events: status changes, refuted suspicions and false deaths.
//
// Label values are bounded: statuses and reasons come from the code, message types from the
// wire's enum, sensors from the device's config. A label per peer only when `peerLabels` asks,
// and then for at most `maxPeers` members.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PATTERNS, type LedStatus } from '../../hal/leds/patterns.js';
import type { CoreEvent } from '../core/effects.js';
import { MsgType, StatusCode } from '../core/messages.js';
import type { Node } from '../core/node.js';
import type { TrafficCounters } from '../host/traffic.js';
import type { TransportCounters } from '../net/transport.js';
import type { SensorStatus } from '../sensing/sampler.js';
import { processMetrics } from './process-metrics.js';
import { sensorGauge, SENSOR_UNITS } from './sensor-units.js';

export interface MetricsSource {
  readonly node: Node;
  readonly host: {
    readonly traffic: TrafficCounters;
    /** Wire-layer refusals by reason. */
    readonly rejected: ReadonlyMap<string, number>;
    readonly lateTimers: number;
    readonly internalErrors: number;
  };
  readonly transport: TransportCounters;
  /** The sealed channel's drops (bad seal, unknown key, replays). Absent on an insecure node. */
  readonly channel?: { readonly dropped: ReadonlyMap<string, number> } | undefined;
  readonly gate?: { readonly refused: ReadonlyMap<string, number> } | undefined;
  readonly keyring?: (() => KeyringFigures) | undefined;
  readonly sensors?: (() => readonly SensorStatus[]) | undefined;
  readonly led?: (() => LedStatus) | undefined;
  /** Monotonic milliseconds, the clock the core's times are on. */
  readonly clock: () => number;
}

export interface KeyringFigures {
  /** The state of every key in the ring ('active', 'retired', 'gone'). */
  readonly states: readonly string[];
  readonly pendingPromotions: number;
  readonly offersReceived: number;
  readonly offersRejected: number;
}

export interface MetricsOptions {
  /** Label per-peer series with the peer's id (off: a fleet's size would set the series count). */
  readonly peerLabels: boolean;
  /** The most peers given a series of their own when peerLabels is on (the first by id). */
  readonly maxPeers: number;
  /** The process's CPU, RSS, heap and event-loop lag (process-metrics.ts). */
  readonly processMetrics: boolean;
}

/** Seconds; the first bucket is the changes that arrived before any news of them. */
const CHANGE_ARRIVAL_BUCKETS = [0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

const TYPE_NAMES: readonly string[] = (() => {
  const names: string[] = ['control'];
  for (const [name, code] of Object.entries(MsgType)) names[code] = name.toLowerCase();
  return names;
})();

export class NodeMetrics {
  readonly registry = new Registry();
  /** Status changes by (from, to), counted from the core's events. */
  readonly #changes = new Map<string, number>();
  /** Verdict changes by (from, to): the flaps. */
  readonly #verdictChanges = new Map<string, number>();
  /** Joins, restarts and removals of members, and suspicions of this node, by event type. */
  readonly #memberEvents = new Map<string, number>();
  #refutedSuspicions = 0;
  #falseDeaths = 0;
  readonly #arrival: Histogram;
  readonly #stopProcessMetrics: (() => void) | undefined;

  constructor(source: MetricsSource, options: MetricsOptions) {
    const r = this.registry;
    const s = source;
    const node = s.node;
    const stats = node.stats;
    const coreCounter = (name: string, help: string, counter: string): void => {
      new Counter({ name, help, registers: [r], collect() { this.reset(); this.inc(stats.get(counter)); } });
    };

    new Gauge({
      name: 'murmur_node_info',
      help: 'This node: its id and profile as labels; the value is always 1.',
      labelNames: ['node', 'profile'],
      registers: [r],
      collect() {
        this.reset();
        this.set({ node: node.self.id, profile: node.profile.name }, 1);
      },
    });
    new Gauge({ name: 'murmur_node_generation', help: 'Boot counter of this node (grows on every start).', registers: [r], collect() { this.set(node.self.gen); } });
    new Gauge({ name: 'murmur_node_incarnation', help: 'Incarnation of this life; grows each time this node refutes a suspicion of itself.', registers: [r], collect() { this.set(node.incarnation); } });
    new Gauge({ name: 'murmur_health_score', help: 'Local health (Lifeguard awareness): 0 is healthy, higher means this node doubts its own timeliness.', registers: [r], collect() { this.set(node.health); } });
    new Gauge({
      name: 'murmur_measured_loss_ratio',
      help: 'Datagram loss this node measures from heartbeat gaps (0-1); NaN with no peer to measure.',
      registers: [r],
      collect() { this.set(node.presentCount === 0 ? NaN : node.measuredLoss); },
    });

    // Membership.
    new Gauge({
      name: 'murmur_members',
      help: 'Members this node knows, by status (itself not included).',
      labelNames: ['status'],
      registers: [r],
      collect() {
        this.reset();
        // Every status the wire knows is shown, zero or not, so a graph has no gaps; a status the
        // core has and the wire does not is shown when a member has it.
        const counts = new Map<string, number>(Object.keys(StatusCode).map((k) => [k, 0]));
        for (const m of node.members()) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    coreCounter('murmur_suspicions_raised_total', 'Members this node began to suspect.', 'suspicions');
    coreCounter('murmur_suspicions_confirmed_total', 'Suspicions that ran their course: the member was declared dead here.', 'declared-dead');
    const self = this;
    new Counter({
      name: 'murmur_suspicions_refuted_total',
      help: 'Members held suspect here that proved themselves alive.',
      registers: [r],
      collect() { this.reset(); this.inc(self.#refutedSuspicions); },
    });
    new Counter({
      name: 'murmur_false_deaths_total',
      help: 'Members held dead here that came back in the same life saying they were alive (a death declared in error).',
      registers: [r],
      collect() { this.reset(); this.inc(self.#falseDeaths); },
    });
    // Counts kept as "from>to" keys, exported with the two labels.
    const transitions = (name: string, help: string, counts: Map<string, number>): void => {
      new Counter({
        name,
        help,
        labelNames: ['from', 'to'],
        registers: [r],
        collect() {
          this.reset();
          for (const [k, n] of counts) {
            const [from, to] = k.split('>') as [string, string];
            this.inc({ from, to }, n);
          }
        },
      });
    };
    transitions('murmur_member_status_changes_total', 'Status changes of members seen here, suspicions included, by previous and new status.', this.#changes);
    transitions(
      'murmur_member_verdict_changes_total',
      'Verdict changes of members seen here (flaps: alive, unreliable, dead, left; a suspicion begun or refuted is none), by previous and new verdict.',
      this.#verdictChanges,
    );
    new Counter({
      name: 'murmur_member_events_total',
      help: 'Members that joined, restarted (a new generation) or were removed, and suspicions of this node heard, by event.',
      labelNames: ['event'],
      registers: [r],
      collect() {
        this.reset();
        for (const event of ['member-joined', 'member-restarted', 'member-removed', 'suspected-self']) this.inc({ event }, self.#memberEvents.get(event) ?? 0);
      },
    });
    coreCounter('murmur_self_refutations_total', 'Times this node refuted a suspicion or death of itself.', 'refutations');
    coreCounter('murmur_anti_entropy_rounds_total', 'Anti-entropy rounds run (a digest is sent when a peer is found).', 'anti-entropy-rounds');
    coreCounter('murmur_anti_entropy_digests_sent_total', 'Anti-entropy digests sent.', 'digests-sent');
    new Counter({
      name: 'murmur_core_events_total',
      help: 'Every counter the protocol core keeps, by name (probes, pulls, stalls, key/values applied...).',
      labelNames: ['counter'],
      registers: [r],
      collect() {
        this.reset();
        for (const [counter, n] of stats.counters) this.inc({ counter }, n);
      },
    });
    this.#arrival = new Histogram({
      name: 'murmur_change_arrival_seconds',
      help: "Time for another member's key/value change to reach this node, from when this node first learnt of it (a heartbeat or digest announcing a newer version) to when it held it; 0 for changes that arrived before any news of them. Device clocks are not synchronised, so the time from the owner's write is not measurable on a device.",
      buckets: CHANGE_ARRIVAL_BUCKETS,
      registers: [r],
    });

    // Traffic.
    const byType = (name: string, help: string, pick: (t: TrafficCounters) => readonly number[]): void => {
      new Counter({
        name,
        help,
        labelNames: ['type'],
        registers: [r],
        collect() {
          this.reset();
          const xs = pick(s.host.traffic);
          for (let i = 0; i < xs.length; i++) {
            const n = xs[i];
            if (n !== undefined) this.inc({ type: TYPE_NAMES[i] ?? `type-${i}` }, n);
          }
        },
      });
    };
    const lead = 'by the type of their lead message (the first that is not a passport; "control" for keyring frames)';
    byType('murmur_datagrams_received_total', `Datagrams opened and decoded, ${lead}.`, (t) => t.datagramsIn);
    byType('murmur_datagrams_sent_total', `Datagrams sent, ${lead}.`, (t) => t.datagramsOut);
    byType('murmur_datagram_received_bytes_total', `Bytes of received datagrams as on the wire (sealed), ${lead}.`, (t) => t.bytesIn);
    byType('murmur_datagram_sent_bytes_total', `Bytes of sent datagrams as on the wire (sealed), ${lead}.`, (t) => t.bytesOut);
    new Counter({
      name: 'murmur_messages_received_total',
      help: 'Protocol messages handed to the core, by type.',
      labelNames: ['type'],
      registers: [r],
      collect() {
        this.reset();
        const xs = stats.receivedByType;
        for (let i = 0; i < xs.length; i++) if (xs[i] !== undefined) this.inc({ type: TYPE_NAMES[i] ?? `type-${i}` }, xs[i]!);
      },
    });
    const udp = (name: string, help: string, labels: Record<string, (c: TransportCounters) => number>, label: string): void => {
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: [r],
        collect() {
          this.reset();
          for (const [v, f] of Object.entries(labels)) this.inc({ [label]: v }, f(s.transport));
        },
      });
    };
    udp('murmur_udp_datagrams_total', 'UDP datagrams through the sockets, everything included.', { in: (c) => c.receivedPackets, out: (c) => c.sentPackets }, 'direction');
    udp('murmur_udp_bytes_total', 'UDP bytes through the sockets (sent bytes include the IP and UDP headers).', { in: (c) => c.receivedBytes, out: (c) => c.sentBytes }, 'direction');
    udp(
      'murmur_udp_errors_total',
      'Datagrams the transport dropped or could not send, by reason.',
      {
        'send-error': (c) => c.sendErrors,
        'refused-oversize': (c) => c.refusedOversize,
        'dropped-oversize': (c) => c.droppedOversize,
        'membership-error': (c) => c.membershipErrors,
      },
      'reason',
    );
    new Counter({
      name: 'murmur_channel_refused_total',
      help: 'Datagrams the sealed channel refused, by reason: seal failures (bad MAC, unknown key, malformed) and replay protection (replayed, too old, earlier generation, sender mismatch).',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of s.channel?.dropped ?? []) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'murmur_rejected_total',
      help: 'Messages refused after the seal, by layer (wire: malformed; gate: unproven identity or signature; core: over the per-owner cap) and reason.',
      labelNames: ['layer', 'reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of s.host.rejected) this.inc({ layer: 'wire', reason }, n);
        for (const [reason, n] of s.gate?.refused ?? []) this.inc({ layer: 'gate', reason }, n);
        this.inc({ layer: 'core', reason: 'owner-cap' }, node.ownerCapRefused);
      },
    });
    new Counter({ name: 'murmur_late_timers_total', help: 'Timers that fired late enough to suggest this process was stalled.', registers: [r], collect() { this.reset(); this.inc(s.host.lateTimers); } });
    new Counter({ name: 'murmur_internal_errors_total', help: 'Exceptions caught around the core (a bug worth reporting if ever above 0).', registers: [r], collect() { this.reset(); this.inc(s.host.internalErrors); } });

    // Keyring.
    if (s.keyring) {
      const keyring = s.keyring;
      new Gauge({
        name: 'murmur_fleet_keys',
        help: 'Fleet keys in this node\'s keyring, by state.',
        labelNames: ['state'],
        registers: [r],
        collect() {
          this.reset();
          const counts = new Map<string, number>([['active', 0], ['retired', 0], ['gone', 0]]);
          for (const st of keyring().states) counts.set(st, (counts.get(st) ?? 0) + 1);
          for (const [state, n] of counts) this.set({ state }, n);
        },
      });
      new Gauge({ name: 'murmur_fleet_key_pending_promotions', help: 'Primary-key changes another device made, waiting here before they take effect.', registers: [r], collect() { this.set(keyring().pendingPromotions); } });
      new Counter({
        name: 'murmur_keyring_offers_total',
        help: 'Keyring offers received from other devices, by outcome.',
        labelNames: ['outcome'],
        registers: [r],
        collect() {
          this.reset();
          const k = keyring();
          this.inc({ outcome: 'accepted' }, Math.max(0, k.offersReceived - k.offersRejected));
          this.inc({ outcome: 'rejected' }, k.offersRejected);
        },
      });
    }

    // Sensors and LEDs.
    if (s.sensors) {
      const sensors = s.sensors;
      const gauges = new Map<string, Gauge>();
      new Gauge({
        name: 'murmur_sensor_up',
        help: 'Whether each sensor\'s latest read succeeded (1) or failed (0); absent until its first read.',
        labelNames: ['sensor'],
        registers: [r],
        collect() {
          this.reset();
          for (const g of gauges.values()) g.reset();
          for (const sensor of sensors()) {
            if (sensor.state === 'pending') continue;
            this.set({ sensor: sensor.name }, sensor.state === 'ok' ? 1 : 0);
            if (sensor.state !== 'ok') continue;
            for (const q of sensor.quantities) {
              const g = sensorGauge(q.unit);
              if (g) gauges.get(g.metric)!.set({ sensor: sensor.name, quantity: q.quantity }, q.value * g.factor);
              else other.set({ sensor: sensor.name, quantity: q.quantity, unit: q.unit }, q.value);
            }
          }
        },
      });
      // Filled by murmur_sensor_up's collect, which is registered (and so read) before them.
      const gaugeFor = (name: string, help: string, labelNames: string[]): Gauge => {
        let g = gauges.get(name);
        if (!g) gauges.set(name, (g = new Gauge({ name, help, labelNames, registers: [r] })));
        return g;
      };
      for (const u of SENSOR_UNITS) gaugeFor(u.metric, `This device's sensor readings in ${u.help}, by sensor and quantity.`, ['sensor', 'quantity']);
      const other = gaugeFor('murmur_sensor_value', 'This device\'s sensor readings in a unit with no Prometheus base unit, by sensor, quantity and unit.', ['sensor', 'quantity', 'unit']);
    }
    if (s.led) {
      const led = s.led;
      new Gauge({
        name: 'murmur_led_status',
        help: 'What this device\'s status LED shows: 1 for the current status, 0 for the others.',
        labelNames: ['status'],
        registers: [r],
        collect() {
          const now = led();
          for (const status of Object.keys(PATTERNS)) this.set({ status }, status === now ? 1 : 0);
        },
      });
    }

    // Per peer, only when asked, and capped.
    if (options.peerLabels) {
      const peers = (): ReturnType<Node['members']> => node.members().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, options.maxPeers);
      new Gauge({
        name: 'murmur_peer_last_heard_seconds',
        help: `Seconds since each peer was last heard first-hand (at most metrics.maxPeers peers, the first by id).`,
        labelNames: ['peer'],
        registers: [r],
        collect() {
          this.reset();
          const now = s.clock();
          for (const m of peers()) if (Number.isFinite(m.lastHeardAt)) this.set({ peer: m.id }, (now - m.lastHeardAt) / 1000);
        },
      });
      new Gauge({
        name: 'murmur_peer_status',
        help: 'Each peer\'s status as seen here: 1 on the series of its current status (at most metrics.maxPeers peers, the first by id).',
        labelNames: ['peer', 'status'],
        registers: [r],
        collect() {
          this.reset();
          for (const m of peers()) this.set({ peer: m.id, status: m.status }, 1);
        },
      });
    }

    if (options.processMetrics) this.#stopProcessMetrics = processMetrics(r);
    stats.onDuration = (name, ms) => {
      if (name === 'change-arrival') this.#arrival.observe(ms / 1000);
    };
  }

  /** One event from the core: counts what no lower layer counts. */
  observe(e: CoreEvent): void {
    if (e.type === 'kv-changed') return;
    if (e.type !== 'member-status') {
      this.#memberEvents.set(e.type, (this.#memberEvents.get(e.type) ?? 0) + 1);
      return;
    }
    const k = `${e.previous}>${e.status}`;
    this.#changes.set(k, (this.#changes.get(k) ?? 0) + 1);
    if (e.verdict !== e.previousVerdict) {
      const v = `${e.previousVerdict}>${e.verdict}`;
      this.#verdictChanges.set(v, (this.#verdictChanges.get(v) ?? 0) + 1);
    }
    if (e.status === 'alive' && e.previous === 'suspect') this.#refutedSuspicions++;
    // A member back from a death in the same life comes back alive, or unreliable when the detector
    // wants it to prove itself first; either way the death was declared in error.
    if ((e.status === 'alive' || e.status === 'unreliable') && e.previous === 'dead') this.#falseDeaths++;
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  /** Stops the event-loop delay monitor, the one timer metrics run. */
  close(): void {
    this.#stopProcessMetrics?.();
  }
}
