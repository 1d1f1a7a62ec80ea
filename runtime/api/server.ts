// The local control API: HTTP with JSON bodies over a Unix socket in the state directory, so
// only local users with access to that directory can reach it (on loopback TCP, see startApiTcp,
// a bearer token stands in for the directory's permissions). Other programs on the device
// publish and read state through it without linking murmur.
//
//   GET    /v1/status            this node: id, generation, address, health, counters
//   GET    /v1/members           every member this node knows, with status
//   GET    /v1/kv/<owner>        one device's keys (use the node's own id for its own)
//   PUT    /v1/kv/<key>          publish one of this device's keys: {"value": ..., "ttlMs"?: n}
//                                 (an object or list value travels as its JSON text: see json-value.ts)
//   DELETE /v1/kv/<key>          delete one of this device's keys
//   GET    /v1/keys              the fleet keyring: ids and states, never key bytes
//   POST   /v1/keys/install      {"key": base64}: install a fleet key, fleet-wide
//   POST   /v1/keys/use          {"id": hex}: make it the primary, fleet-wide
//   POST   /v1/keys/remove       {"id": hex, "compromised"?: true}: retire it (or erase it at once)
//                                 each with "prepare": true: change nothing, answer the keyring it
//                                 would give ("granted", base64) for the fleet admin to sign
//   POST   /v1/keys/grant        {"granted", "signature", "key"?}: make a change the admin signed
//   GET    /v1/revocations       devices revoked by the fleet admin
//   POST   /v1/revocations       a revocation as "murmur admin revoke" prints it: enforce and spread it
//   GET    /v1/sensors           this device's sensors: last reading or error, counters
//   GET    /v1/sensors/fleet     per sensor key, across the fleet: count, min, max, mean, stale, errors
//   GET    /v1/sensors/fleet/<key>  one sensor key, one row per device
//   POST   /v1/identify          {"target": id, "seconds"?: n, "off"?: true}: blink that device's LED
//   POST   /v1/leds/test         {"pattern"?: name, "seconds"?: n}: play the patterns, then back to the status
//   GET    /v1/agg/<key>         one key's numeric values across the fleet: count, min, max, mean, stale
//   GET    /v1/watch?prefix=&device=  live changes, NDJSON (or SSE with Accept: text/event-stream)
//   POST   /v1/query            {"name": ..., "payload"?: text, "prefix"?: id prefix, "timeoutMs"?: n}: ask the
//                                fleet; the replies stream as NDJSON (or SSE) as they come, then who did not answer
//   GET    /metrics              Prometheus metrics, when metrics.enabled (metrics-route.ts)
//   POST   /v1/hooks/test        {"event": name, "member"?: id, "key"?: k, "value"?: v}: run the hooks for it now
// A key may contain "/" (e.g. sensor/temp); it is the rest of the path, percent-decoded.
//
// Errors are {"error": <stable code>, "message": <text>} with a matching HTTP status.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { OwnerCapError } from '../core/kv-store.js';
import type { Value } from '../core/messages.js';
import type { WatchEvent, WatchHub } from './watch.js';
import { TooManyQueriesError, type QueryHub, type QueryStreamEvent } from './query.js';
import { MAX_QUERY_PAYLOAD } from '../core/queries.js';
import { apiValue, wireValue } from './json-value.js';
import { KeyNotInstalledError } from '../crypto/keyring.js';
import { AdminGrantRequiredError } from '../trust/keyring-grant.js';
import { parseLoopbackListen, type LoopbackListen } from '../config/api-listen.js';
import { jsonText } from '../log/escape.js';
import { bearerMatches } from './token.js';
import { serveMetrics, type MetricsScraper } from './metrics-route.js';

export interface ApiBackend {
  status(): unknown;
  members(): unknown;
  keysOf(owner: string): Record<string, { value: unknown; version: number }> | undefined;
  set(key: string, value: Value, ttlMs: number): number;
  delete(key: string): boolean;
  revocations?: {
    list(): unknown;
    apply(text: string): unknown;
  };
  hal?: {
    sensors(): unknown;
    /** Aggregates of every sensor key, or the per-device rows of one (undefined: no such key). */
    fleet(key?: string): unknown;
    identify(target: string, seconds: number | undefined, off: boolean): unknown;
    ledsTest(pattern: string | undefined, seconds: number | undefined): unknown;
  };
  /** Numeric values of one key across the fleet; undefined when no device has it. */
  agg?(key: string): unknown;
  watch?: WatchHub;
  query?: QueryHub;
  /** Set when metrics are enabled: GET /metrics. */
  metrics?: MetricsScraper;
  /** Runs every hook naming `event` once with a made-up event; what each did (throws on an unknown event). */
  hooksTest?(event: string, fields: { member?: string | undefined; key?: string | undefined; value?: unknown }): Promise<unknown>;
  keys?: {
    list(): unknown;
    install(key: string, prepare: boolean): unknown;
    use(id: string, prepare: boolean): unknown;
    remove(id: string, compromised: boolean, prepare: boolean): unknown;
    /** A change signed by the fleet admin (base64 fields); `key`: the key it installs. */
    grant(granted: string, signature: string, key: string | undefined): unknown;
  };
}

/** Thrown by a backend when the device (or other thing) a request names does not exist: answered 404. */
export class UnknownMemberError extends Error {}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 4096;
/** Longest TTL accepted: 30 days. Longer is "forever", which is a key without a TTL. */
export const MAX_TTL_MS = 30 * 24 * 3600 * 1000;

export interface ApiOptions {
  /** Group (name or gid) given the socket, so an admin group can use it without root. */
  readonly group?: string | undefined;
}

export async function startApi(socketPath: string, backend: ApiBackend, options: ApiOptions = {}): Promise<Server> {
  let existing;
  try {
    existing = lstatSync(socketPath);
  } catch {
    existing = undefined;
  }
  if (existing) {
    // Only ever remove a stale socket: a misconfigured api.socket must not delete a state file.
    if (!existing.isSocket()) throw new Error(`api socket ${socketPath}: exists and is not a socket; choose another api.socket`);
    if (await isListening(socketPath)) throw new Error(`api socket ${socketPath}: another murmur is already running here`);
    unlinkSync(socketPath);
  }
  const server = apiServer(backend);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`api socket ${socketPath}: ${e.message}`)));
    server.listen(socketPath, () => resolve());
  });
  // Owner and group only: the service user, and the admin group when one is configured.
  chmodSync(socketPath, 0o660);
  if (options.group !== undefined) {
    try {
      chownSync(socketPath, -1, groupId(options.group));
    } catch (e) {
      server.close();
      throw new Error(`api.group: cannot give the socket to group "${options.group}": ${(e as Error).message}`);
    }
  }
  return server;
}

export interface ApiTcpOptions {
  /** The bearer token every request must carry (token.ts). */
  readonly token: string;
}

interface TcpGuard extends LoopbackListen {
  readonly token: string;
}

/**
 * The API on loopback TCP as well, for programs that cannot speak to a Unix socket. Anyone on
 * the device can reach it (no file permissions apply), so it is off unless configured, the
 * config only accepts a loopback address, and every request must carry the bearer token.
 */
export async function startApiTcp(address: string, backend: ApiBackend, options: ApiTcpOptions): Promise<Server> {
  let listen: LoopbackListen;
  try {
    listen = parseLoopbackListen(address);
  } catch (e) {
    throw new Error(`api.tcp: "${address}" is not a loopback address and port: ${(e as Error).message}`);
  }
  const server = apiServer(backend, { ...listen, token: options.token });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`api.tcp ${address}: ${e.message}`)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}

/** Open connections at most: a program leaking them must not exhaust the node's memory. */
const MAX_CONNECTIONS = 64;
/**
 * A client has this long to send a request's headers, and REQUEST_TIMEOUT_MS for the whole
 * request; an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS. Every request
 * murmur's clients send fits in one write, so seconds are generous, and a connection that says
 * nothing is closed rather than held for Node's default minute.
 */
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often the timeouts above are checked (Node's default is every 30 s). */
const TIMEOUT_CHECK_MS = 1_000;

function apiServer(backend: ApiBackend, tcp?: TcpGuard): Server {
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
    (req, res) => {
      handle(req, res, backend, tcp).catch((e: unknown) => reply(res, e));
    },
  );
  limitConnections(server, MAX_CONNECTIONS);
  return server;
}

/**
 * At most `max` connections. When one more arrives, the oldest connection with no request in
 * progress is closed to make room: idle or half-open sockets (a client that connects and never
 * sends its headers) cannot keep a real request out, however many are opened. Only when every
 * connection is serving a request (watchers, at most MAX_WATCHERS) is the new one refused.
 */
export function limitConnections(server: Server, max: number): void {
  // A Map iterates in insertion order: oldest first.
  const open = new Map<Socket, { requests: number }>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const idle = [...open].find(([, c]) => c.requests === 0)?.[0];
      if (idle === undefined) {
        socket.destroy();
        return;
      }
      open.delete(idle);
      idle.destroy();
    }
    open.set(socket, { requests: 0 });
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const c = open.get(req.socket);
    if (c === undefined) return;
    c.requests++;
    res.once('close', () => c.requests--);
  });
}

/**
 * On TCP, file permissions protect nothing, and a web page open in a browser on the device can
 * send requests to 127.0.0.1. Browsers mark those with an Origin header (murmur's clients never
 * send one), a page reaching us through DNS rebinding carries its own host name in Host, and a
 * page can only send a JSON content type after a preflight that murmur never answers.
 */
function guardTcp(req: IncomingMessage, tcp: TcpGuard): void {
  if (req.headers.origin !== undefined) throw new ApiError(403, 'forbidden', 'requests from web pages (with an Origin header) are refused');
  const host = tcp.host.includes(':') ? `[${tcp.host}]:${tcp.port}` : `${tcp.host}:${tcp.port}`;
  if (req.headers.host !== host) throw new ApiError(403, 'forbidden', `Host must be ${host}`);
  const method = req.method ?? 'GET';
  if ((method === 'POST' || method === 'PUT') && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new ApiError(415, 'unsupported-media-type', 'on TCP, a request body must be sent as content-type application/json');
  }
  // Any local user can connect: the token, readable only by murmur's user, is what admits a client.
  if (!bearerMatches(req.headers.authorization, tcp.token)) {
    throw new ApiError(401, 'unauthorized', 'on TCP, every request needs "Authorization: Bearer <token>", with the token from the file api.tokenFile names (api-token in the state directory)');
  }
}

/** A group name from /etc/group, or a numeric gid. */
export function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === group);
  const gid = line === undefined ? NaN : Number(line.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`no group "${group}" in /etc/group`);
  return gid;
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, b: ApiBackend, tcp: TcpGuard | undefined): Promise<void> {
  if (tcp) guardTcp(req, tcp);
  const raw = req.url ?? '/';
  const url = new URL(raw, 'http://murmur');
  // The raw path, not url.pathname: URL parsing resolves "." and ".." segments (even encoded
  // ones), which would turn a write of "sensor/../temp" into a write of "temp".
  const rawPath = raw.split('?')[0]!;
  if (rawPath === '/metrics') return serveMetrics(req, res, b.metrics);
  let parts: string[];
  try {
    parts = rawPath.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw new ApiError(400, 'invalid-path', `path ${rawPath}: bad percent-encoding`);
  }
  if (parts[0] !== 'v1') throw new ApiError(404, 'not-found', `no such endpoint: ${rawPath}`);
  const what = parts[1];
  const rest = parts.slice(2);
  if (rest.some((x) => x === '' || x === '.' || x === '..')) {
    throw new ApiError(400, 'invalid-key', `path ${rawPath}: empty, "." and ".." segments are not allowed in a key or name`);
  }
  const arg = rest.length > 0 ? rest.join('/') : undefined;
  const method = req.method ?? 'GET';
  if (what === 'status' && method === 'GET') return send(res, 200, b.status());
  if (what === 'members' && method === 'GET') return send(res, 200, b.members());
  if (what === 'kv' && arg !== undefined) {
    if (method === 'GET') {
      const keys = b.keysOf(arg);
      if (!keys) throw new ApiError(404, 'unknown-member', `no member "${arg}" is known here`);
      const shown = Object.create(null) as Record<string, unknown>;
      for (const [k, e] of Object.entries(keys)) shown[k] = { ...e, value: apiValue(e.value as Value) };
      return send(res, 200, shown);
    }
    if (method === 'PUT') {
      const body = await readJson(req);
      const value = wireValue(body.value);
      if (value === undefined) {
        throw new ApiError(400, 'invalid-value', 'body.value: expected a string, a finite number, a boolean, an object or a list');
      }
      const ttl = body.ttlMs ?? 0;
      if (!Number.isSafeInteger(ttl) || (ttl as number) < 0 || (ttl as number) > MAX_TTL_MS) {
        throw new ApiError(400, 'invalid-ttl', `body.ttlMs: expected an integer from 0 (no expiry) to ${MAX_TTL_MS}`);
      }
      try {
        const version = b.set(arg, value, ttl as number);
        return send(res, 200, { key: arg, version });
      } catch (e) {
        // The device holds as many keys (or bytes) as every replica will hold for it.
        if (e instanceof OwnerCapError) throw new ApiError(409, 'owner-cap', e.message);
        throw new ApiError(400, 'rejected', (e as Error).message);
      }
    }
    if (method === 'DELETE') {
      let deleted: boolean;
      try {
        deleted = b.delete(arg);
      } catch (e) {
        throw new ApiError(400, 'rejected', (e as Error).message);
      }
      if (!deleted) throw new ApiError(404, 'unknown-key', `this node has no key "${arg}"`);
      return send(res, 200, { key: arg, deleted: true });
    }
  }
  if (what === 'revocations' && b.revocations && arg === undefined) {
    if (method === 'GET') return send(res, 200, b.revocations.list());
    if (method === 'POST') {
      const body = await readJson(req);
      try {
        return send(res, 200, b.revocations.apply(JSON.stringify(body)));
      } catch (e) {
        throw new ApiError(400, 'rejected', (e as Error).message);
      }
    }
  }
  if (what === 'sensors' && b.hal && method === 'GET') {
    if (arg === undefined) return send(res, 200, b.hal.sensors());
    if (arg === 'fleet') return send(res, 200, b.hal.fleet());
    if (arg.startsWith('fleet/')) {
      const rows = b.hal.fleet(arg.slice('fleet/'.length));
      if (rows === undefined) throw new ApiError(404, 'unknown-sensor', `no device publishes "${arg.slice('fleet/'.length)}"`);
      return send(res, 200, rows);
    }
  }
  if (what === 'leds' && arg === 'test' && b.hal && method === 'POST') {
    const body = await readJson(req);
    if (body.pattern !== undefined && typeof body.pattern !== 'string') throw new ApiError(400, 'invalid-body', 'body.pattern: expected a pattern name');
    if (body.seconds !== undefined && !(typeof body.seconds === 'number' && body.seconds > 0 && body.seconds <= 60)) {
      throw new ApiError(400, 'invalid-body', 'body.seconds: expected a number of seconds, above 0 and at most 60');
    }
    try {
      return send(res, 200, b.hal.ledsTest(body.pattern as string | undefined, body.seconds as number | undefined));
    } catch (e) {
      throw new ApiError(400, 'rejected', (e as Error).message);
    }
  }
  if (what === 'agg' && arg !== undefined && b.agg && method === 'GET') {
    const r = b.agg(arg);
    if (r === undefined) throw new ApiError(404, 'unknown-key', `no device publishes "${arg}"`);
    return send(res, 200, r);
  }
  if (what === 'watch' && arg === undefined && b.watch && method === 'GET') return watch(req, res, b.watch, url);
  if (what === 'query' && arg === undefined && b.query && method === 'POST') return query(req, res, b.query, await readJson(req));
  if (what === 'identify' && b.hal && method === 'POST' && arg === undefined) {
    const body = await readJson(req);
    if (typeof body.target !== 'string' || body.target === '') throw new ApiError(400, 'invalid-body', 'body.target: expected a device id');
    if (body.seconds !== undefined && !Number.isInteger(body.seconds)) throw new ApiError(400, 'invalid-body', 'body.seconds: expected an integer');
    try {
      return send(res, 200, b.hal.identify(body.target, body.seconds as number | undefined, body.off === true));
    } catch (e) {
      if (e instanceof UnknownMemberError) throw new ApiError(404, 'unknown-member', e.message);
      throw new ApiError(400, 'rejected', (e as Error).message);
    }
  }
  if (what === 'hooks' && arg === 'test' && b.hooksTest && method === 'POST') {
    const body = await readJson(req);
    if (typeof body.event !== 'string') throw new ApiError(400, 'invalid-body', 'body.event: expected an event name such as "member-failed"');
    for (const k of ['member', 'key'] as const) if (body[k] !== undefined && typeof body[k] !== 'string') throw new ApiError(400, 'invalid-body', `body.${k}: expected a string`);
    try {
      return send(res, 200, await b.hooksTest(body.event, { member: body.member as string | undefined, key: body.key as string | undefined, value: body.value }));
    } catch (e) {
      throw new ApiError(400, 'rejected', (e as Error).message);
    }
  }
  if (what === 'keys' && b.keys) {
    const k = b.keys;
    if (arg === undefined && method === 'GET') return send(res, 200, k.list());
    if (method === 'POST' && (arg === 'install' || arg === 'use' || arg === 'remove' || arg === 'grant')) {
      const body = await readJson(req);
      const fields = arg === 'install' ? ['key'] : arg === 'grant' ? ['granted', 'signature'] : ['id'];
      for (const field of fields) if (typeof body[field] !== 'string') throw new ApiError(400, 'invalid-body', `body.${field}: expected a string`);
      if (arg === 'grant' && body.key !== undefined && typeof body.key !== 'string') throw new ApiError(400, 'invalid-body', 'body.key: expected a string');
      const prepare = body.prepare === true;
      try {
        if (arg === 'install') return send(res, 200, k.install(body.key as string, prepare));
        if (arg === 'use') return send(res, 200, k.use(body.id as string, prepare));
        if (arg === 'grant') return send(res, 200, k.grant(body.granted as string, body.signature as string, body.key as string | undefined));
        return send(res, 200, k.remove(body.id as string, body.compromised === true, prepare));
      } catch (e) {
        if (e instanceof KeyNotInstalledError) throw new ApiError(404, 'unknown-key-id', e.message);
        if (e instanceof AdminGrantRequiredError) throw new ApiError(403, 'admin-signature-required', e.message);
        throw new ApiError(400, 'rejected', (e as Error).message);
      }
    }
  }
  throw new ApiError(404, 'not-found', `no such endpoint: ${method} ${rawPath}`);
}

function watch(req: IncomingMessage, res: ServerResponse, hub: WatchHub, url: URL): void {
  const sse = (req.headers.accept ?? '').includes('text/event-stream');
  const filter = { prefix: url.searchParams.get('prefix') ?? '', device: url.searchParams.get('device') ?? undefined };
  const frame = (o: unknown): string => {
    const json = jsonText(o, (_k, v: unknown) => (v instanceof Uint8Array ? { base64: Buffer.from(v).toString('base64') } : v));
    return sse ? `data: ${json}\n\n` : `${json}\n`;
  };
  const unsubscribe = hub.subscribe(filter, {
    buffered: () => res.writableLength,
    send: (e: WatchEvent) => void res.write(frame(e.type === 'kv' && e.value !== null ? { ...e, value: apiValue(e.value as Value) } : e)),
    // Ended and destroyed: a watcher that stopped reading would otherwise hold its socket and
    // everything queued on it for as long as it stays connected.
    drop: (why) => {
      res.end(frame({ type: 'dropped', why }));
      res.destroy();
    },
  });
  if (!unsubscribe) throw new ApiError(503, 'too-many-watchers', 'too many watchers on this node; close one and retry');
  res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/x-ndjson', 'cache-control': 'no-cache' });
  res.write(frame({ type: 'hello', id: hub.id, prefix: filter.prefix, device: filter.device ?? null }));
  // A watcher is open until it goes away; the server's request timeouts must not cut it.
  req.socket.setTimeout(0);
  res.on('close', unsubscribe);
}

/** Default and longest wait for a query's replies. */
const QUERY_TIMEOUT_MS = 3000;
const QUERY_TIMEOUT_MAX_MS = 60_000;

function query(req: IncomingMessage, res: ServerResponse, hub: QueryHub, body: Record<string, unknown>): void {
  if (typeof body.name !== 'string' || body.name === '') throw new ApiError(400, 'invalid-body', 'body.name: expected the name of a query');
  if (body.payload !== undefined && typeof body.payload !== 'string') throw new ApiError(400, 'invalid-body', 'body.payload: expected text');
  if (body.prefix !== undefined && typeof body.prefix !== 'string') throw new ApiError(400, 'invalid-body', 'body.prefix: expected the start of device ids');
  const timeoutMs = body.timeoutMs ?? QUERY_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 100 || (timeoutMs as number) > QUERY_TIMEOUT_MAX_MS) {
    throw new ApiError(400, 'invalid-body', `body.timeoutMs: expected an integer from 100 to ${QUERY_TIMEOUT_MAX_MS}`);
  }
  const payload = Buffer.from((body.payload as string | undefined) ?? '', 'utf8');
  if (payload.length > MAX_QUERY_PAYLOAD) {
    throw new ApiError(413, 'payload-too-large', `body.payload: ${payload.length} bytes is over the ${MAX_QUERY_PAYLOAD}-byte limit (a query travels in one datagram)`);
  }
  const sse = (req.headers.accept ?? '').includes('text/event-stream');
  const frame = (o: QueryStreamEvent): string => (sse ? `data: ${jsonText(o)}\n\n` : `${jsonText(o)}\n`);
  let started = false;
  let stop: (() => void) | undefined;
  try {
    stop = hub.ask(body.name, payload, (body.prefix as string | undefined) ?? '', timeoutMs as number, {
      send: (e) => {
        if (!started) {
          started = true;
          res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/x-ndjson', 'cache-control': 'no-cache' });
        }
        res.write(frame(e));
      },
      end: () => res.end(),
    });
  } catch (e) {
    if (e instanceof TooManyQueriesError) throw new ApiError(429, 'too-many-queries', e.message);
    if (e instanceof RangeError) throw new ApiError(400, 'invalid-query', e.message);
    throw e;
  }
  // Open until the deadline: the server's request timeout must not cut a long query.
  req.socket.setTimeout(0);
  res.on('close', stop);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'body-too-large', `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (j && typeof j === 'object' && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new ApiError(400, 'invalid-json', 'request body: expected a JSON object');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = jsonText(body, (_k, v: unknown) => (v instanceof Uint8Array ? { base64: Buffer.from(v).toString('base64') } : v));
  res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(text + '\n');
}

function reply(res: ServerResponse, e: unknown): void {
  if (e instanceof ApiError) return send(res, e.status, { error: e.code, message: e.message });
  send(res, 500, { error: 'internal', message: (e as Error).message });
}
