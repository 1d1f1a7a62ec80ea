// `murmur start`: one node on real sockets. Wires the pieces together in the order that keeps
// the device's persisted state safe: identity and the new generation are on disk before the
// first datagram leaves, own keys are restored before the node announces itself, and a stop
// sends a leave before the sockets close.

import type { Server } from 'node:http';
import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import type { CoreEvent } from '../core/effects.js';
import type { Value } from '../core/messages.js';
import type { Profile } from '../core/profiles.js';
import { longestHeartbeatGapMs } from '../core/timing.js';
import { apiSocketPath, apiTokenPath, httpTokenPath, metricsTokenPath, profileOf, type MurmurConfig } from '../config/config.js';
import { startPage, type PageServer } from '../api/page/page-server.js';
import { parseHttpListen } from '../config/http-listen.js';
import { groupId, startApi, startApiTcp, type ApiBackend } from '../api/server.js';
import { loadOrCreateApiToken } from '../api/token.js';
import { dirname, resolve } from 'node:path';
import { WatchHub } from '../api/watch.js';
import { QueryHub } from '../api/query.js';
import { QueryAnswers } from './query-answers.js';
import { SENSOR_PREFIX } from '../sensing/reading.js';
import { Seeds } from '../net/seeds.js';
import { UnknownKeySenders } from './unknown-senders.js';
import { SystemInterfaces, type InterfaceSource } from '../net/interfaces.js';
import { UdpTransport } from '../net/udp-transport.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../wire/index.js';
import { formatKeyId, type Keyring } from '../crypto/keyring.js';
import { CryptoRng } from './crypto-rng.js';
import { KeySync } from './key-sync.js';
import { DeviceTrust, RESERVED_PREFIX } from './trust.js';
import { KEYRING_FILE, KEYRING_GRANT_FILE, loadKeyring, loadKeyringGrant, parseFleetKey, saveKeyring, saveKeyringGrant } from './keyring-store.js';
import type { Logger } from '../log/log.js';
import { assembleNode } from '../host/assembly.js';
import type { NodeHost } from '../host/node-host.js';
import { monotonicClock, RealTimeScheduler } from '../host/scheduler.js';
import { StateDir, type OwnKey } from './state-dir.js';
import { DeviceHal, type DeviceHalDeps } from './device-hal.js';
import type { HalConfig } from '../config/hal-config.js';
import { LED_KEY, ledStatusOf } from '../status/led-key.js';
import type { NodeMetrics } from '../metrics/registry.js';
import { sharedScraper, type MetricsScraper } from '../api/metrics-route.js';
import { startMetricsListener } from '../api/metrics-listener.js';
import type { FleetChannel } from '../crypto/fleet-channel.js';
import type { Gatekeeper } from '../trust/gatekeeper.js';
import { Hooks } from './hooks/hooks.js';
import { MqttBridge } from './mqtt/mqtt-bridge.js';
import { HOOK_EVENTS, type HookEvent } from '../config/hooks-config.js';

export interface AgentDeps {
  readonly log: Logger;
  readonly interfaces?: InterfaceSource;
  readonly wallClock?: () => number;
  /** Stand-ins for the machine's /sys, commands and schedules (tests). */
  readonly hal?: Omit<DeviceHalDeps, 'log'>;
  /** murmur's version, the answer to the built-in "version" query. */
  readonly version?: string;
}

/** Coalesce own-key writes: a sensor publishing every few seconds must not wear out an SD card. */
const PERSIST_DELAY_MS = 1000;
/**
 * How often to ask V8 for a full collection. murmur's live heap is small and steady (about
 * 7 MB in a 16-node fleet, the same at minute 2 and minute 8 by heap snapshot), but V8 lets
 * short-lived garbage pile up in the old generation for many minutes before collecting it,
 * and resident memory creeps with it. A concurrent major GC once a minute costs a few ms.
 */
const GC_INTERVAL_MS = 60_000;
/**
 * The unicast socket's pause: after reading a batch of datagrams, wait this long before reading
 * again, unless a protocol timer comes due first (runtime/net/paced-reads.ts). Read as they
 * come, datagrams each wake the process, and a wake-up of a lone Node process costs about as
 * much as handling one. Reads also resume when one of the core's timers comes due (heartbeats,
 * sweeps, anti-entropy); the pause bounds how late we read when none is. Probes and their Acks
 * come here: 100 ms is half the lan profile's probe timeout, so our Ack to a peer's probe still
 * arrives in time.
 */
const READ_PAUSE_MS = 100;
/**
 * The group sockets' pause. Heartbeats, digests and news come through the group, most of what a
 * device receives, and none of it asks for a timely answer; what the core decides on them it
 * decides in a timer, and every timer resumes reads first. So the group is read when the next
 * timer fires, and that costs no wake-up of its own. The core's own heartbeat is a timer at
 * least once per interval and its jitter (the other regular timers wait for it), so the pause
 * is a little longer than that: ending sooner, it would often wake the process just before the
 * heartbeat does. On the lan profile that bounds how late news reaches the device at 300 ms.
 */
function groupReadPauseMs(profile: Profile): number {
  return longestHeartbeatGapMs(profile, profile.heartbeatMinMs) + 25;
}

export class Agent {
  readonly host: NodeHost;
  readonly #transport: UdpTransport;
  readonly #state: StateDir;
  readonly #log: Logger;
  readonly #config: MurmurConfig;
  readonly #own: Map<string, OwnKey>;
  readonly #keyring: Keyring;
  readonly #keySync: KeySync;
  readonly #trust: DeviceTrust;
  readonly #hal: DeviceHal;
  readonly #watch: WatchHub;
  readonly #queries: QueryHub;
  readonly #answers: QueryAnswers;
  readonly #hooks: Hooks;
  #mqtt: MqttBridge | undefined;
  #api: Server | undefined;
  #apiTcp: Server | undefined;
  #page: PageServer | undefined;
  #metrics: NodeMetrics | undefined;
  #scraper: MetricsScraper | undefined;
  #metricsServer: Server | undefined;
  #persistTimer: NodeJS.Timeout | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  /** Seed names looked up and seeds heard from, and who sends under keys we lack: why a node is alone. */
  #seeds: Seeds | undefined;
  #unknownSenders: UnknownKeySenders | undefined;

  private constructor(
    config: MurmurConfig,
    state: StateDir,
    transport: UdpTransport,
    host: NodeHost,
    own: Map<string, OwnKey>,
    keyring: Keyring,
    keySync: KeySync,
    trust: DeviceTrust,
    hal: DeviceHal,
    log: Logger,
    version: string,
  ) {
    this.#trust = trust;
    this.#hal = hal;
    this.#watch = new WatchHub(host.node.self.id);
    this.#queries = new QueryHub({
      id: host.node.self.id,
      ask: (name, payload, prefix, timeoutMs) => host.ask(name, payload, prefix, timeoutMs),
      expected: (prefix) => (host.node.self.id.startsWith(prefix) ? 1 : 0) + host.node.members().filter((m) => (m.status === 'alive' || m.status === 'suspect') && m.id.startsWith(prefix)).length,
      now: monotonicClock,
    });
    this.#answers = new QueryAnswers({
      queries: config.queries,
      version,
      config,
      sensors: () => {
        const out: Record<string, unknown> = {};
        for (const [k, e] of host.node.liveValues(host.node.self.id, monotonicClock())) {
          if (k.startsWith(SENSOR_PREFIX)) out[k.slice(SENSOR_PREFIX.length)] = e.value instanceof Uint8Array ? `<${e.value.length} bytes>` : e.value;
        }
        return out;
      },
      log,
    });
    this.#hooks = new Hooks(config.hooks, { log, self: () => host.node.self.id });
    this.#config = config;
    this.#keyring = keyring;
    this.#keySync = keySync;
    this.#state = state;
    this.#transport = transport;
    this.host = host;
    this.#own = own;
    this.#log = log;
  }

  static async start(config: MurmurConfig, deps: AgentDeps): Promise<Agent> {
    const state = StateDir.open(config.node.stateDir, deps.log, { groupAccess: config.api.group !== undefined && socketInStateDir(config) });
    // Before the boot counter moves: a refused second start must leave the directory as it was.
    state.lock();
    try {
      return await Agent.#start(config, deps, state);
    } catch (e) {
      state.unlock();
      throw e;
    }
  }

  static async #start(config: MurmurConfig, deps: AgentDeps, state: StateDir): Promise<Agent> {
    const log = deps.log;
    // Loaded before anything is served, so the API never shows an enabled bridge as missing.
    const mqttClient = config.mqtt.enabled ? await import('mqtt') : undefined;
    const id = state.identity(config.node.name);
    const gen = state.nextGeneration((deps.wallClock ?? Date.now)());
    const keyringFile = state.path(KEYRING_FILE);
    const keyring = loadKeyring(keyringFile, {
      graceMs: config.security.keyGraceDays * 86_400_000,
      fleetKeyFile: config.security.fleetKeyFile,
      log,
      ...(deps.wallClock ? { wallClock: deps.wallClock } : {}),
    });
    let host: NodeHost | undefined;
    // Before any socket: a device that cannot prove who it is should not start at all.
    const trust = DeviceTrust.open(state, { id, gen }, config, log);
    // The LEDs say "booting" from here on; a device stuck below this line shows it.
    const hal = await DeviceHal.open(config.hal, { ...deps.hal, log, ...(deps.wallClock ? { wallClock: deps.wallClock } : {}) });
    try {
      const wire = profileOf(config);
      const net = config.network;
      const seeds = new Seeds({
        seeds: net.seeds,
        defaultPort: net.port === 0 ? undefined : net.port,
        families: net.families,
        clock: monotonicClock,
        alone: () => host?.node.presentCount === 0,
        onChange: (addrs) => host?.node.reseed(addrs),
        onNotice: (level, event, fields) => log.log(level, event, fields),
      });
      const unknownSenders = new UnknownKeySenders(monotonicClock, (fields) => log.log('warn', 'datagram-unknown-key', fields));
      const transport = await UdpTransport.open(
        {
          families: net.families,
          group4: net.group4,
          group6: net.group6,
          groupPort: net.groupPort,
          port: net.port,
          interfaces: net.interfaces,
          multicast: net.multicast,
          ttl: net.ttl,
          budget: wire.datagramBudget,
          interfaceSource: deps.interfaces ?? new SystemInterfaces(),
          interfaceCheckMs: net.interfaceCheckMs,
          onNotice: (level, event, fields) => log.log(level, event, fields),
          onAddressChange: (addr) => host?.node.readdress(addr),
          readPauseMs: READ_PAUSE_MS,
          groupReadPauseMs: groupReadPauseMs(wire),
        },
      );
      // The configured intent, not whether a group is joined right now: a Pi often starts before
      // DHCP or Wi-Fi is up. Until the group is joined, the per-peer fallback and the seeds carry it.
      const multicast = net.multicast;
      let agent: Agent | undefined;
      let keySync: KeySync | undefined;
      const timers = new RealTimeScheduler(monotonicClock, () => transport.resumeReads());
      const assembled = assembleNode({
        id,
        gen,
        profile: wire,
        transport,
        clock: monotonicClock,
        scheduler: timers,
        rng: new CryptoRng(),
        multicast,
        seeds: seeds.addrs,
        security: { keyring, ...trust.material() },
        onOldKey: (k, st, from) => keySync?.oldKey(k, st, from),
        onControl: (plain, from, admit) => keySync?.control(plain, from, admit),
        onEvent: (e) => {
          agent?.logEvent(e);
          if (agent) agent.#metrics?.observe(e);
          trust.observe(e, id);
          if (agent) {
            agent.#toWatchers(e);
            agent.#onQueryEvent(e);
            agent.#hooks.observe(e);
            agent.#mqtt?.observe(e);
          }
        },
        onError: (where, e, count) => log.log('error', 'internal-error', { where, error: e.message, count }),
      });
      host = assembled.host;
      trust.guard(assembled.gate!);
      const channel = assembled.channel!;
      // Every datagram says a seed answers, and one under a key we lack names a device to fix.
      transport.listen((bytes, from, via) => {
        seeds.heard(from);
        const unknownKey = channel.dropped.get('unknown-key');
        host?.receive(bytes, from, via);
        if (channel.dropped.get('unknown-key') !== unknownKey) unknownSenders.saw(from);
      });
      keySync = new KeySync(
        { key: trust.key, passport: () => trust.gate.ownPassport(host?.node.incarnation ?? 0, false) },
        trust.gate,
        keyring,
        () => host,
        () => {
          try {
            saveKeyring(keyringFile, keyring);
          } catch (e) {
            log.log('error', 'keyring-not-saved', { error: (e as Error).message });
          }
        },
        log,
        monotonicClock,
        {
          ...(deps.wallClock ? { wallClock: deps.wallClock } : {}),
          adminPublicKey: trust.admin,
          grants: { load: () => loadKeyringGrant(state.path(KEYRING_GRANT_FILE)), save: (g) => saveKeyringGrant(state.path(KEYRING_GRANT_FILE), g) },
        },
      );
      const own = state.loadOwnKeys();
      agent = new Agent(config, state, transport, host, own, keyring, keySync, trust, hal, log, deps.version ?? 'unknown');
      log.log('info', 'node-starting', {
        node: id,
        gen,
        addr: transport.localAddress,
        profile: wire.name,
        multicast,
        families: net.families.join(','),
        seeds: net.seeds.join(',') || undefined,
        state_dir: config.node.stateDir,
        fleet_key: formatKeyId(keyring.primaryId!),
        device_key: trust.fingerprint,
        admin: trust.admin ? 'certificate' : undefined,
      });
      if (net.multicast && !transport.multicastReady) {
        log.log('warn', 'multicast-unavailable', {
          reason: 'no interface could join the group yet; interfaces are re-read every network.interfaceCheckMs',
          fallback: net.seeds.length > 0 ? 'seeds' : 'none until an interface comes up: set network.seeds',
        });
      }
      if (config.metrics.enabled) await agent.#startMetrics(channel, assembled.gate!);
      try {
        const api = config.api;
        if (api.group !== undefined) openStateDirToGroup(apiSocketPath(config), config.node.stateDir, api.group);
        agent.#api = await startApi(apiSocketPath(config), agent.#backend(), { group: api.group });
        if (api.tcp !== undefined) {
          const tokenFile = apiTokenPath(config);
          const t = loadOrCreateApiToken(tokenFile);
          if (t.modeFixed !== undefined) log.log('warn', 'api-token-mode-fixed', { file: tokenFile, was: t.modeFixed, now: '0600' });
          agent.#apiTcp = await startApiTcp(api.tcp, agent.#backend(), { token: t.token });
          log.log('info', 'api-tcp', { listen: api.tcp, token_file: tokenFile, token_created: t.created || undefined });
        }
        if (config.http.listen !== undefined) agent.#page = await agent.#startPage(config);
        const listen = config.metrics.listen;
        if (listen !== undefined && agent.#scraper) {
          const tokenFile = metricsTokenPath(config);
          const t = loadOrCreateApiToken(tokenFile, { name: 'metrics token', field: 'metrics.tokenFile' });
          if (t.modeFixed !== undefined) log.log('warn', 'metrics-token-mode-fixed', { file: tokenFile, was: t.modeFixed, now: '0600' });
          agent.#metricsServer = await startMetricsListener(listen, agent.#scraper, { token: t.token });
          log.log('info', 'metrics-listen', { listen, token_file: tokenFile, token_created: t.created || undefined });
        }
      } catch (e) {
        await Promise.all([agent.#api && closeServer(agent.#api), agent.#apiTcp && closeServer(agent.#apiTcp), agent.#page?.close(), agent.#metricsServer && closeServer(agent.#metricsServer)]);
        await transport.close();
        throw e;
      }
      host.start();
      agent.#seeds = seeds;
      agent.#unknownSenders = unknownSenders;
      seeds.start();
      const h = host;
      trust.attach((k, v) => h.set(k, v));
      agent.#startPeriodicGc();
      for (const [k, v] of own) {
        // Keys saved under other caps (an older version, another profile) must not stop the start.
        try {
          host.set(k, v.value);
        } catch (e) {
          log.log('warn', 'own-key-not-restored', { key: k, error: (e as Error).message });
        }
      }
      if (own.size > 0) log.log('info', 'own-keys-restored', { count: own.size });
      hal.start(host, timers);
      if (mqttClient) {
        agent.#mqtt = new MqttBridge(config.mqtt, {
          connect: mqttClient.connect,
          log,
          node: h.node,
          set: (k, v) => h.set(k, v),
          delete: (k) => h.delete(k),
          identify: (target, seconds, off) => hal.identify(target, seconds, off),
          clock: monotonicClock,
        });
        agent.#mqtt.start();
      }
      return agent;
    } catch (e) {
      // The LEDs go back to the system (and say nothing) rather than blink "booting" over the error.
      await hal.stop();
      throw e;
    }
  }

  /**
   * Graceful stop: close the API (so no write is accepted that could not be saved), save own
   * keys, leave (unless `announce` is false), close the sockets.
   */
  stop(announce = true): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#api) {
        await Promise.all([closeServer(this.#api), this.#apiTcp && closeServer(this.#apiTcp), this.#page?.close(), this.#metricsServer && closeServer(this.#metricsServer)]);
        try {
          unlinkSync(apiSocketPath(this.#config));
        } catch {
          // Already removed by close.
        }
      }
      this.flushOwnKeys();
      this.#metrics?.close();
      this.#seeds?.close();
      this.#keySync.stop();
      this.#hooks.stop();
      await this.#mqtt?.stop();
      await this.#hal.stop();
      if (this.#gcTimer) clearInterval(this.#gcTimer);
      if (announce) {
        this.#log.log('info', 'node-leaving', { node: this.host.node.self.id });
        // Long enough for the leave's repeats to go out.
        await this.host.leave(Math.max(...this.host.node.profile.repeatOffsetsMs) + 100);
      } else this.host.stop();
      await this.#transport.close();
      this.#state.unlock();
      this.#log.log('info', 'node-stopped', { node: this.host.node.self.id });
    })();
    return this.#stopping;
  }

  /** The fleet page (http.listen), with its token file made when missing. */
  async #startPage(config: MurmurConfig): Promise<PageServer> {
    const listen = parseHttpListen(config.http.listen!);
    const tokenFile = httpTokenPath(config);
    const t = loadOrCreateApiToken(tokenFile);
    if (t.modeFixed !== undefined) this.#log.log('warn', 'http-token-mode-fixed', { file: tokenFile, was: t.modeFixed, now: '0600' });
    const page = await startPage(this.#backend(), { listen, token: t.token, maxClients: config.http.maxClients });
    const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    this.#log.log('info', 'fleet-page', { url: `http://${host}:${page.port}/`, token_file: tokenFile, token_needed: listen.loopback ? 'for identify' : 'yes' });
    return page;
  }

  /** Metrics read from the counters every layer keeps; the core's events feed the few nobody else counts. */
  async #startMetrics(channel: FleetChannel, gate: Gatekeeper): Promise<void> {
    // Loaded only when enabled: prom-client costs about 12 MB of resident memory.
    const { NodeMetrics } = await import('../metrics/registry.js');
    const m = this.#config.metrics;
    this.#metrics = new NodeMetrics(
      {
        node: this.host.node,
        host: this.host,
        transport: this.#transport.counters,
        channel,
        gate,
        keyring: () => ({
          states: this.#keyring.records().map((k) => this.#keyring.state(k.id) ?? 'gone'),
          pendingPromotions: this.#keySync.pendingPromotions().length,
          offersReceived: this.#keySync.offersReceived,
          offersRejected: this.#keySync.offersRejected,
        }),
        sensors: () => this.#hal.sensorStatus(),
        led: () => this.#hal.ledStatus,
        clock: monotonicClock,
      },
      { peerLabels: m.peerLabels, maxPeers: m.maxPeers, processMetrics: m.processMetrics },
    );
    this.#scraper = sharedScraper(this.#metrics);
  }

  #startPeriodicGc(): void {
    // Present only when node runs with --expose-gc (the CLI's interpreter line passes it).
    const gc = (globalThis as { gc?: (opts?: { type: string; execution: string }) => unknown }).gc;
    if (typeof gc !== 'function') return;
    this.#gcTimer = setInterval(() => gc({ type: 'major', execution: 'async' }), GC_INTERVAL_MS);
    this.#gcTimer.unref();
  }

  get transport(): UdpTransport {
    return this.#transport;
  }

  /** Queries to answer go to QueryAnswers (the answer returns to the core later); replies to ours go to the asking connection. */
  #onQueryEvent(e: CoreEvent): void {
    if (e.type === 'query-reply' || e.type === 'query-done') return this.#queries.observe(e);
    if (e.type !== 'query') return;
    this.#log.log('debug', 'query', { asker: e.asker.id, query: e.name, qid: e.qid });
    void this.#answers.answer(e.name, e.payload, e.asker.id).then(
      (a) => this.host.answer(e.asker, e.qid, a.status, new TextEncoder().encode(a.body)),
      (err: unknown) => this.#log.log('error', 'internal-error', { where: 'query', error: (err as Error).message }),
    );
  }

  /** Key and member changes, to local programs watching (GET /v1/watch). murmur's own keys stay private. */
  #toWatchers(e: CoreEvent): void {
    if (this.#watch.size === 0) return;
    // Called from inside the core's event path: a throw here would abandon the core halfway
    // through a message. A watcher's trouble stays the watcher's.
    try {
      this.#publishToWatchers(e);
    } catch (err) {
      this.#log.log('error', 'internal-error', { where: 'watch', error: (err as Error).message });
    }
  }

  #publishToWatchers(e: CoreEvent): void {
    const w = this.#watch;
    switch (e.type) {
      case 'kv-changed':
        if (e.key.startsWith(RESERVED_PREFIX)) return;
        return w.publish(e.value === null ? { type: 'kv', owner: e.owner.id, key: e.key, value: null, version: e.version, deleted: true } : { type: 'kv', owner: e.owner.id, key: e.key, value: e.value, version: e.version });
      case 'member-joined':
        return w.publish({ type: 'member', id: e.member.id, status: 'alive', previous: null, gen: e.member.gen });
      case 'member-status':
        return w.publish({ type: 'member', id: e.member.id, status: e.status, previous: e.previous, gen: e.member.gen, verdict: e.verdict, previousVerdict: e.previousVerdict });
      case 'member-restarted':
        return w.publish({ type: 'member', id: e.member.id, status: 'alive', previous: 'restarted', gen: e.member.gen });
      case 'member-removed':
        return w.publish({ type: 'member', id: e.member.id, status: 'removed', previous: null, gen: e.member.gen });
    }
  }

  /** One log line per protocol event. */
  logEvent(e: CoreEvent): void {
    const l = this.#log;
    switch (e.type) {
      case 'member-joined':
        return l.log('info', 'member-joined', { member: e.member.id, gen: e.member.gen, addr: e.addr });
      case 'member-restarted':
        return l.log('info', 'member-restarted', { member: e.member.id, gen: e.member.gen, previous_gen: e.previousGen });
      case 'member-status':
        // Suspicions stay at info, as memberlist logs them: the line before a death says who
        // doubted it first. A line alerts when its two verdicts differ.
        return l.log(e.status === 'dead' ? 'warn' : 'info', 'member-status', {
          member: e.member.id,
          gen: e.member.gen,
          status: e.status,
          previous: e.previous,
          verdict: e.verdict,
          previous_verdict: e.previousVerdict,
          sources: e.sources.join(',') || undefined,
        });
      case 'member-removed':
        return l.log('info', 'member-removed', { member: e.member.id, gen: e.member.gen });
      case 'suspected-self':
        return l.log('warn', 'suspected-self', { by: e.by.id, inc: e.inc });
      case 'query-rate-limited':
        return l.log('warn', 'query-rate-limited', { asker: e.asker.id, dropped: e.dropped });
      case 'kv-changed':
        return l.log('debug', 'kv-changed', {
          owner: e.owner.id,
          key: e.key,
          version: e.version,
          value: e.value === null ? undefined : e.value instanceof Uint8Array ? `<${e.value.length} bytes>` : e.value,
          deleted: e.value === null ? true : undefined,
        });
    }
  }

  #backend(): ApiBackend {
    const node = this.host.node;
    const t = this.#transport;
    const now = monotonicClock;
    return {
      status: () => ({
        id: node.self.id,
        fleet: this.#config.node.fleet ?? null,
        gen: node.self.gen,
        uptimeS: Math.round(process.uptime()),
        addr: t.localAddress,
        incarnation: node.incarnation,
        profile: node.profile.name,
        multicast: t.multicastReady,
        health: node.health,
        stallSlackMs: node.stallSlackMs,
        joining: node.joining,
        // With no peer there is nothing to measure: the estimator's prior is not a measurement.
        measuredLoss: node.presentCount === 0 ? null : node.measuredLoss,
        members: countBy([...node.members()].map((m) => m.status)),
        transport: t.counters,
        rejected: this.host.refusals(),
        seeds: this.#seeds?.view() ?? [],
        unknownKeySenders: this.#unknownSenders?.view() ?? [],
        security: {
          fleetKey: formatKeyId(this.#keyring.primaryId!),
          deviceKey: this.#trust.fingerprint,
          admin: this.#trust.admin !== undefined,
          identities: this.#trust.gate.identities,
          // Why the last new identity was refused a place (rate per source, or the fleet cap).
          lastIdentityRefusal: this.#trust.gate.lastIdentityRefusal ?? null,
          buried: this.#trust.gate.buried,
          keyringOffers: { received: this.#keySync.offersReceived, rejected: this.#keySync.offersRejected, handoffsSent: this.#keySync.handoffsSent, ...this.#keySync.refused },
        },
        led: this.#hal.statusView(),
        hooks: this.#hooks.view(),
        mqtt: this.#mqtt?.view() ?? null,
        core: node.stats.snapshot(),
        memory: memoryMb(),
      }),
      members: () =>
        [...node.members()].map((m) => ({
          id: m.id,
          gen: m.gen,
          status: m.status,
          addr: m.addr,
          incarnation: m.inc,
          lastHeardMsAgo: Number.isFinite(m.lastHeardAt) ? now() - m.lastHeardAt : null,
          suspicion: node.suspicionOf(m.id, now()) ?? null,
          led: ledStatusOf(node.liveValue(m.id, LED_KEY, now())?.value) ?? null,
          reliability: node.reliabilityOf(m.id, now()) ?? null,
          groupPath: node.groupPathOf(m.id, now()) ?? null,
          silenceAllowed: node.silenceAllowedOf(m.id) ?? null,
        })),
      keysOf: (owner) => {
        if (owner !== node.self.id && !node.isKnown(owner)) return undefined;
        // No prototype: a key named "__proto__" is a key like any other.
        const out = Object.create(null) as Record<string, { value: unknown; version: number }>;
        for (const [k, e] of node.liveValues(owner, now())) {
          if (k.startsWith(RESERVED_PREFIX)) continue;
          out[k] = { value: e.value, version: e.version };
        }
        return out;
      },
      set: (key, value, ttlMs) => this.#set(key, value, ttlMs),
      hal: {
        sensors: () => this.#hal.sensorsView(),
        fleet: (key) => this.#hal.fleet(key),
        identify: (target, seconds, off) => this.#hal.identify(target, seconds, off),
        ledsTest: (pattern, seconds) => this.#hal.ledsTest(pattern, seconds),
      },
      agg: (key) => (key.startsWith(RESERVED_PREFIX) ? undefined : this.#hal.aggregateKey(key)),
      watch: this.#watch,
      query: this.#queries,
      ...(this.#scraper ? { metrics: this.#scraper } : {}),
      hooksTest: async (event, fields) => {
        if (!(HOOK_EVENTS as readonly string[]).includes(event)) throw new Error(`event: expected one of ${HOOK_EVENTS.join(', ')}, got "${event}"`);
        return { event, ran: await this.#hooks.test(event as HookEvent, fields) };
      },
      revocations: {
        list: () => this.#trust.revocations(),
        apply: (text) => this.#trust.applyJson(text),
      },
      keys: {
        list: () => this.#keyList(),
        // With a fleet admin, a change is prepared here (the keyring as it would be, for the
        // admin to sign) and made by `grant` with the admin's signature.
        install: (text, prepare) => this.#keySync.change(prepare, (r) => ({ id: formatKeyId(r.install(parseFleetKey(text, 'key'))) })),
        use: (id, prepare) => this.#keySync.change(prepare, (r) => {
          r.use(parseKeyId(id));
          return { primary: formatKeyId(r.primaryId!) };
        }),
        remove: (id, compromised, prepare) => this.#keySync.change(prepare, (r) => {
          r.remove(parseKeyId(id), compromised);
          return { id, state: r.state(parseKeyId(id)) };
        }),
        grant: (granted, signature, key) => {
          this.#keySync.applyGrant({ granted: base64Field(granted, 'granted'), signature: base64Field(signature, 'signature') }, key === undefined ? undefined : parseFleetKey(key, 'key'));
          return { primary: formatKeyId(this.#keyring.primaryId!) };
        },
      },
      delete: (key) => {
        if (key.startsWith(RESERVED_PREFIX)) throw new Error(`key: "${RESERVED_PREFIX}" keys belong to murmur itself`);
        if (!node.liveValue(node.self.id, key, now())) return false;
        this.host.delete(key);
        if (this.#own.delete(key)) this.#schedulePersist();
        return true;
      },
    };
  }

  /** The keyring without key bytes: ids, states and when each was installed, used and removed. */
  #keyList(): unknown {
    const r = this.#keyring;
    const when = (t: number): string | null => (t > 0 ? new Date(t).toISOString() : null);
    return {
      primary: formatKeyId(r.primaryId!),
      graceDays: this.#config.security.keyGraceDays,
      keys: r.records().map((k) => ({
        id: formatKeyId(k.id),
        state: r.state(k.id),
        primary: k.id === r.primaryId,
        compromised: k.compromised,
        installed: when(k.installed),
        used: when(k.used),
        removed: when(k.removed),
      })),
      // Promotions another device made, waiting here before they take effect (offer-policy.ts).
      pending: this.#keySync.pendingPromotions().map((p) => ({ id: formatKeyId(p.id), inS: Math.max(0, Math.ceil((p.effectiveAt - monotonicClock()) / 1000)) })),
    };
  }

  #set(key: string, value: Value, ttlMs: number): number {
    if (key.length === 0 || Buffer.byteLength(key) > MAX_KEY_LENGTH) throw new Error(`key: expected 1-${MAX_KEY_LENGTH} bytes`);
    if (key.startsWith(RESERVED_PREFIX)) throw new Error(`key: "${RESERVED_PREFIX}" keys belong to murmur itself`);
    const size = typeof value === 'string' ? Buffer.byteLength(value) : value instanceof Uint8Array ? value.length : 9;
    if (size > MAX_VALUE_LENGTH) throw new Error(`value: ${size} bytes, at most ${MAX_VALUE_LENGTH} fit the wire format`);
    const version = this.host.set(key, value, ttlMs);
    // Keys with a TTL are ephemeral by intent; only lasting ones survive a restart, and a
    // lasting value replaced by an ephemeral one must not come back after a restart.
    if (ttlMs === 0) {
      this.#own.set(key, { value });
      this.#schedulePersist();
    } else if (this.#own.delete(key)) {
      this.#schedulePersist();
    }
    return version;
  }

  #schedulePersist(): void {
    if (this.#persistTimer) return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = undefined;
      this.flushOwnKeys();
    }, PERSIST_DELAY_MS);
  }

  /** Takes a reloaded `hal` section: LEDs and sensors are rebuilt, or nothing changes and this throws. */
  reloadHal(hal: HalConfig): Promise<void> {
    return this.#hal.reload(hal);
  }

  /** Save own keys now (on stop, on a forced exit, or when the coalescing delay ends). */
  flushOwnKeys(): void {
    if (this.#persistTimer) {
      clearTimeout(this.#persistTimer);
      this.#persistTimer = undefined;
    }
    try {
      this.#state.saveOwnKeys(this.#own);
    } catch (e) {
      // A full disk must not take the node down; the previous file is intact. Retry later.
      this.#log.log('error', 'own-keys-not-saved', { error: (e as Error).message, retry_in_ms: PERSIST_DELAY_MS * 10 });
      this.#persistTimer = setTimeout(() => {
        this.#persistTimer = undefined;
        this.flushOwnKeys();
      }, PERSIST_DELAY_MS * 10);
    }
  }
}

/**
 * The state directory is 0700, so a socket inside it is out of reach of its group whatever the
 * socket's own mode. With an admin group configured, the group may pass through the directory
 * (0710: enter, not list); the secrets in it (device key, keyring) stay 0600.
 */
function openStateDirToGroup(socket: string, stateDir: string, group: string): void {
  if (resolve(dirname(socket)) !== resolve(stateDir)) return;
  try {
    chownSync(stateDir, -1, groupId(group));
    chmodSync(stateDir, 0o710);
  } catch (e) {
    throw new Error(`api.group: cannot open the state directory ${stateDir} to group "${group}": ${(e as Error).message}`);
  }
}

/** Whether the API group must pass through the state directory to reach the socket. */
function socketInStateDir(config: MurmurConfig): boolean {
  return resolve(dirname(apiSocketPath(config))) === resolve(config.node.stateDir);
}

/** Stops listening and ends open connections: a slow client or a watcher must not hold a shutdown. */
function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  return closed;
}

function parseKeyId(id: string): number {
  if (!/^[0-9a-f]{8}$/.test(id)) throw new Error(`key id: expected 8 hex digits as "murmur keys list" shows, got "${id}"`);
  return parseInt(id, 16);
}

function memoryMb(): Record<string, number> {
  const m = process.memoryUsage();
  const mb = (x: number): number => Math.round((x / 1048576) * 10) / 10;
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) };
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** Bytes sent as base64 in an API body field. */
function base64Field(text: string, field: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error(`${field}: expected base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}
