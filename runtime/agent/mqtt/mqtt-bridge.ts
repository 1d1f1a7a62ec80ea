// The MQTT bridge. Every device with mqtt.enabled keeps a connection to the broker (so it knows
// the broker is in reach, and a hand-over needs no connect), and says so in its BRIDGE_KEY; only
// the device bridge-election.ts chooses publishes. It publishes what mqtt-topics.ts computes
// from the fleet, retained, as the difference from what it last published: after a reconnect
// (the broker may have lost its retained messages) and on becoming the bridge it forgets what it
// published, so everything goes out again.
//
// Nothing from the broker can stop the node: every callback is guarded, errors are logged (at
// most once a minute per kind, with a count) and counted, and commands are read only on the
// bridge, only with mqtt.commands, rate-limited and checked as the local API checks them.

import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { CoreEvent } from '../../core/effects.js';
import { RESERVED_PREFIX } from '../../core/reserved-keys.js';
import type { MqttConfig } from '../../config/mqtt-config.js';
import type { Fields, Level, Logger } from '../../log/log.js';
import { BRIDGE_KEY, bridgeValue, brokerTag, chooseBridge, type BridgeState } from './bridge-election.js';
import { bridgeTopic, deviceTopic, deviceTopics, DiscoveryCache, IDENTIFY_SET } from './mqtt-topics.js';

/** The first readiness waits this long before claiming the bridge, to learn of one already bridging. */
export const STARTUP_HOLD_MS = 3000;
/** A lost broker connection withdraws this device's candidacy only after this long: a blip is not a hand-over. */
export const READY_GRACE_MS = 5000;
/** A change is published after this delay, so a burst of key changes is one pass. */
const DEBOUNCE_MS = 50;
/** Who bridges is checked this often, whatever the events say. */
const RECONCILE_MS = 1000;
/** Every device's topics are recomputed this often (keys expiring by TTL emit no event). */
const FULL_PASS_MS = 30_000;
/** Commands accepted per COMMAND_WINDOW_MS; the rest are refused and counted. */
const COMMANDS_PER_WINDOW = 10;
const COMMAND_WINDOW_MS = 10_000;
/** The largest command payload read ("PRESS", "off", seconds). */
const MAX_COMMAND_BYTES = 16;
/** Packets the broker may send us at most (we only take short commands). */
const MAX_PACKET_BYTES = 4096;

export interface BridgeNode {
  readonly self: { readonly id: string };
  members(): Iterable<{ readonly id: string; readonly status: string }>;
  liveValue(owner: string, key: string, now: number): { readonly value: unknown } | undefined;
  liveValues(owner: string, now: number): Iterable<readonly [string, { readonly value: unknown }]>;
}

export interface MqttBridgeDeps {
  readonly log: Logger;
  readonly node: BridgeNode;
  readonly set: (key: string, value: string) => void;
  readonly delete: (key: string) => void;
  /** What POST /v1/identify does; throws naming what was wrong. */
  readonly identify: (target: string, seconds: number | undefined, off: boolean) => unknown;
  readonly clock: () => number;
  /**
   * mqtt.js's connect. The agent loads mqtt.js only when the bridge is enabled: it costs about
   * 15 MB of resident memory, which a device without a broker should not pay.
   */
  readonly connect: (url: string, options: IClientOptions) => MqttClient;
}

export interface MqttCounters {
  connects: number;
  disconnects: number;
  errors: number;
  published: number;
  publishErrors: number;
  roleChanges: number;
  commands: number;
  commandsRefused: number;
}

export class MqttBridge {
  readonly #config: MqttConfig;
  readonly #deps: MqttBridgeDeps;
  readonly #tag: string;
  readonly #counters: MqttCounters = { connects: 0, disconnects: 0, errors: 0, published: 0, publishErrors: 0, roleChanges: 0, commands: 0, commandsRefused: 0 };
  /** What was published, per device (and "" for the bridge topic): a change recomputes only its device. */
  readonly #published = new Map<string, Map<string, string>>();
  /** Devices whose topics may have changed since the last pass; 'all' after a (re)connect or role change. */
  #dirty: Set<string> | 'all' = 'all';
  #fullPassAt = 0;
  readonly #discovery = new DiscoveryCache();
  readonly #limits = new Map<string, { at: number; suppressed: number }>();
  #client: MqttClient | undefined;
  #connected = false;
  #state: BridgeState | undefined;
  #holdUntil = 0;
  #bridging = false;
  #bridge: string | undefined;
  #lastError: string | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #commandWindow = { from: 0, count: 0 };
  /** Topic device part -> device id, for commands addressed by topic. */
  #deviceByTopic = new Map<string, string>();
  #stopped = false;

  constructor(config: MqttConfig, deps: MqttBridgeDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#tag = brokerTag(config.url!);
  }

  /** Connects (and keeps reconnecting); never throws: a broker that cannot be reached is logged and counted. */
  start(): void {
    const c = this.#config;
    const options: IClientOptions = {
      clientId: `murmur-${this.#deps.node.self.id.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64),
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      // A broker that refuses (bad credentials, not authorised) is asked again, not given up on.
      reconnectOnConnackError: true,
      properties: { maximumPacketSize: MAX_PACKET_BYTES },
    };
    try {
      if (c.username !== undefined) options.username = c.username;
      if (c.passwordFile !== undefined) options.password = readFileSync(c.passwordFile, 'utf8').replace(/\r?\n$/, '');
      if (c.caFile !== undefined) options.ca = readFileSync(c.caFile);
      if (c.certFile !== undefined) options.cert = readFileSync(c.certFile);
      if (c.keyFile !== undefined) options.key = readFileSync(c.keyFile);
    } catch (e) {
      // The message names the file, never its contents.
      this.#lastError = (e as Error).message;
      this.#counters.errors++;
      this.#deps.log.log('error', 'mqtt-disabled', { error: this.#lastError, reason: 'a file the mqtt section names cannot be read; the node runs without the bridge' });
      return;
    }
    const client = this.#deps.connect(c.url!, options);
    this.#client = client;
    client.on('connect', () => this.#guard('connect', () => this.#onConnect()));
    client.on('close', () => this.#guard('close', () => this.#onClose()));
    client.on('error', (e) => this.#guard('error', () => this.#onError(e)));
    client.on('message', (topic, payload) => this.#guard('message', () => this.#onMessage(topic, payload)));
    this.#tick = setInterval(() => this.#guard('reconcile', () => this.#reconcile()), RECONCILE_MS);
    this.#tick.unref();
    this.#deps.log.log('info', 'mqtt-starting', { url: c.url, username: c.username, tls: c.url!.startsWith('mqtts:') || undefined, broker_tag: this.#tag });
  }

  /** Core events: a change worth publishing, or one that may change who bridges. */
  observe(e: CoreEvent): void {
    if (this.#client === undefined || this.#stopped) return;
    if (e.type === 'kv-changed' && e.key.startsWith(RESERVED_PREFIX) && e.key !== BRIDGE_KEY) return;
    // Only a member's change or a key's can change what is published; queries and the like cannot.
    const id = e.type === 'kv-changed' ? e.owner.id : 'member' in e ? e.member.id : undefined;
    if (id === undefined) return;
    if (this.#dirty !== 'all') this.#dirty.add(id);
    if (this.#debounce !== undefined) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#guard('reconcile', () => this.#reconcile());
    }, DEBOUNCE_MS);
    this.#debounce.unref();
  }

  view(): unknown {
    return {
      url: this.#config.url,
      connected: this.#connected,
      candidate: this.#state ?? null,
      bridge: this.#bridge ?? null,
      bridging: this.#bridging,
      lastError: this.#lastError ?? null,
      ...this.#counters,
    };
  }

  get counters(): Readonly<MqttCounters> {
    return this.#counters;
  }

  get bridging(): boolean {
    return this.#bridging;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of [this.#graceTimer, this.#debounce]) if (t) clearTimeout(t);
    if (this.#tick) clearInterval(this.#tick);
    const client = this.#client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      client.end(true, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #onConnect(): void {
    this.#connected = true;
    this.#counters.connects++;
    this.#lastError = undefined;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#notice('info', 'mqtt-connected', { url: this.#config.url, connects: this.#counters.connects });
    // The broker may have restarted and lost every retained message: all of it goes out again.
    this.#forget();
    if (this.#state === undefined) {
      this.#holdUntil = this.#deps.clock() + STARTUP_HOLD_MS;
      this.#setState('ready');
    }
    if (this.#bridging) this.#subscribe();
    this.#reconcile();
  }

  #onClose(): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#counters.disconnects++;
    this.#notice('warn', 'mqtt-disconnected', { url: this.#config.url, disconnects: this.#counters.disconnects, retry_ms: 1000 });
    this.#graceTimer ??= setTimeout(() => {
      this.#graceTimer = undefined;
      if (this.#connected || this.#stopped) return;
      this.#guard('grace', () => {
        this.#setState(undefined);
        this.#reconcile();
      });
    }, READY_GRACE_MS);
    this.#graceTimer.unref();
  }

  #onError(e: Error & { code?: number | string }): void {
    this.#counters.errors++;
    this.#lastError = e.message;
    this.#notice('warn', 'mqtt-error', { url: this.#config.url, error: e.message, code: e.code, errors: this.#counters.errors });
  }

  #setState(state: BridgeState | undefined): void {
    if (state === this.#state) return;
    this.#state = state;
    if (state === undefined) this.#deps.delete(BRIDGE_KEY);
    else this.#deps.set(BRIDGE_KEY, bridgeValue(this.#tag, state));
  }

  #reconcile(): void {
    if (this.#stopped) return;
    const now = this.#deps.clock();
    const node = this.#deps.node;
    const self = node.self.id;
    const members = [...node.members()];
    const bridge = chooseBridge(
      self,
      now < this.#holdUntil ? undefined : this.#state,
      this.#tag,
      members.map((m) => ({ id: m.id, status: m.status, value: node.liveValue(m.id, BRIDGE_KEY, now)?.value })),
    );
    this.#bridge = bridge;
    // The role outlives a broker blip shorter than READY_GRACE_MS (the candidacy does too), so a
    // flapping broker flips neither the role nor the key; publishing waits for the connection.
    const bridging = bridge === self;
    if (bridging !== this.#bridging) {
      this.#bridging = bridging;
      this.#counters.roleChanges++;
      this.#forget();
      this.#deps.log.log('info', 'mqtt-bridge-role', { bridging, bridge: bridge ?? 'none' });
      if (bridging) this.#subscribe();
      else this.#unsubscribe();
    }
    if (this.#state !== undefined && this.#connected) this.#setState(bridging ? 'active' : 'ready');
    if (!bridging || !this.#connected) return;
    if (now >= this.#fullPassAt) this.#dirty = 'all';
    const dirty = this.#dirty;
    this.#dirty = new Set();
    if (dirty === 'all') this.#fullPassAt = now + FULL_PASS_MS;
    this.#sync('', new Map([[bridgeTopic(this.#config), self]]));
    const status = new Map<string, string>([[self, 'alive'], ...members.map((m) => [m.id, m.status] as const)]);
    const ids = dirty === 'all' ? new Set([...status.keys(), ...this.#published.keys()]) : dirty;
    for (const id of ids) {
      if (id === '') continue;
      const st = status.get(id);
      if (st === undefined) {
        this.#sync(id, new Map());
        continue;
      }
      this.#deviceByTopic.set(deviceTopic(this.#config, id), id);
      const online = st !== 'dead' && st !== 'left' && st !== 'unreliable';
      this.#sync(id, deviceTopics({ id, online, values: values(node, id, now) }, this.#config, this.#discovery));
    }
  }

  /** Publishes where `want` differs from what was published for `device`. */
  #sync(device: string, want: Map<string, string>): void {
    let had = this.#published.get(device);
    if (had === undefined) {
      had = new Map();
      this.#published.set(device, had);
    }
    for (const [topic, payload] of want) if (had.get(topic) !== payload) this.#publish(had, topic, payload);
    for (const [topic] of had) {
      if (want.has(topic)) continue;
      had.delete(topic);
      // A device forgotten by the fleet stays in Home Assistant, unavailable; a deleted key's topic is cleared.
      if (topic.endsWith('/availability')) this.#publish(undefined, topic, 'offline');
      else if (!topic.endsWith('/config')) this.#publish(undefined, topic, '');
    }
    if (had.size === 0) {
      this.#published.delete(device);
      this.#deviceByTopic.delete(deviceTopic(this.#config, device));
    }
  }

  /** Everything goes out again on the next pass. */
  #forget(): void {
    this.#published.clear();
    this.#dirty = 'all';
  }

  #publish(into: Map<string, string> | undefined, topic: string, payload: string): void {
    const client = this.#client!;
    into?.set(topic, payload);
    this.#counters.published++;
    client.publish(topic, payload, { qos: 1, retain: true, properties: { userProperties: { 'murmur-bridge': this.#deps.node.self.id } } }, (e) => {
      if (!e) return;
      this.#counters.publishErrors++;
      // Published again on the next pass, which is a full one.
      into?.delete(topic);
      this.#fullPassAt = 0;
      this.#notice('warn', 'mqtt-publish-failed', { topic, error: e.message, failures: this.#counters.publishErrors });
    });
  }

  #commandTopic(): string {
    return `${this.#config.topicPrefix}/+/${IDENTIFY_SET}`;
  }

  #subscribe(): void {
    if (!this.#config.commands || !this.#connected) return;
    this.#client!.subscribe(this.#commandTopic(), { qos: 0 }, (e) => {
      if (e) this.#notice('warn', 'mqtt-subscribe-failed', { topic: this.#commandTopic(), error: e.message });
    });
  }

  #unsubscribe(): void {
    if (!this.#config.commands || !this.#connected) return;
    this.#client!.unsubscribe(this.#commandTopic());
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.#counters.commands++;
    const refuse = (reason: string): void => {
      this.#counters.commandsRefused++;
      this.#notice('warn', 'mqtt-command-refused', { topic, reason, refused: this.#counters.commandsRefused });
    };
    // Only the bridge acts: a command that arrives during a hand-over is not run twice.
    if (!this.#config.commands || !this.#bridging) return refuse('this device is not the bridge, or mqtt.commands is off');
    const now = this.#deps.clock();
    const w = this.#commandWindow;
    if (now - w.from >= COMMAND_WINDOW_MS) {
      w.from = now;
      w.count = 0;
    }
    if (++w.count > COMMANDS_PER_WINDOW) return refuse(`more than ${COMMANDS_PER_WINDOW} commands in ${COMMAND_WINDOW_MS / 1000} s`);
    const prefix = `${this.#config.topicPrefix}/`;
    const suffix = `/${IDENTIFY_SET}`;
    if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return refuse('not a command topic');
    const target = this.#deviceByTopic.get(topic.slice(0, -suffix.length));
    if (target === undefined) return refuse('no device of this fleet has that topic');
    if (payload.length > MAX_COMMAND_BYTES) return refuse(`payload of ${payload.length} bytes; expected PRESS, off or whole seconds`);
    const text = payload.toString('utf8').trim();
    let seconds: number | undefined;
    let off = false;
    if (text === 'off') off = true;
    else if (/^\d{1,5}$/.test(text)) seconds = Number(text);
    else if (text !== 'PRESS' && text !== '') return refuse('payload: expected PRESS, off or whole seconds');
    try {
      // The same checks as POST /v1/identify: a known device, 1 s to the maximum.
      this.#deps.identify(target, seconds, off);
    } catch (e) {
      return refuse((e as Error).message);
    }
    this.#deps.log.log('info', 'mqtt-command', { command: 'identify', target, seconds, off: off || undefined });
  }

  /** A line per kind at most once a minute, the lines held back counted in the next. */
  #notice(level: Level, event: string, fields: Fields): void {
    const now = this.#deps.clock();
    const l = this.#limits.get(event);
    if (l && now - l.at < 60_000) {
      l.suppressed++;
      return;
    }
    this.#limits.set(event, { at: now, suppressed: 0 });
    this.#deps.log.log(level, event, { ...fields, suppressed: l?.suppressed || undefined });
  }

  #guard(where: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#counters.errors++;
      this.#deps.log.log('error', 'internal-error', { where: `mqtt ${where}`, error: (e as Error).message });
    }
  }
}

function* values(node: BridgeNode, owner: string, now: number): Iterable<readonly [string, unknown]> {
  for (const [k, e] of node.liveValues(owner, now)) if (!k.startsWith(RESERVED_PREFIX)) yield [k, e.value];
}
