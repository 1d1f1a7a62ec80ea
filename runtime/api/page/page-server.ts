// The fleet page: a read-only web page any node can serve (http.listen), showing the fleet as
// this node sees it, live. Its routes:
//
//   GET  /                 the page (HTML); /page.css and /page.js beside it; nothing from elsewhere
//   GET  /v1/fleet         the page's data (fleet-view.ts)
//   GET  /v1/watch         the watch stream (watch.ts) as server-sent events, to update it live
//   POST /v1/identify      {"target": id, "seconds"?: n, "off"?: true}: the one action the page offers
//
// Who may use it: on loopback anyone on the device may read the page (as anyone may run
// `murmur members` when the API is theirs to reach); beyond loopback every data request carries
// the page token (http.tokenFile) as "Authorization: Bearer". Identify is an action, so it needs
// the token everywhere, as the CLI needs access to the API. A page from another origin is
// refused (its Origin header names it), and on loopback so is a Host header that is not this
// machine (DNS rebinding). The static assets carry no data and are served to anyone.
//
// Bounded like the API: at most http.maxClients live streams (the next gets 503), a cap on open
// connections, small headers (431 beyond 8 KiB), and seconds, not minutes, to send a request.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { limitConnections, UnknownMemberError, type ApiBackend } from '../server.js';
import { bearerMatches } from '../token.js';
import type { WatchEvent } from '../watch.js';
import { apiValue } from '../json-value.js';
import type { Value } from '../../core/messages.js';
import { jsonText } from '../../log/escape.js';
import { DEFAULT_IDENTIFY_S, MAX_IDENTIFY_S } from '../../status/identify.js';
import type { HttpListen } from '../../config/http-listen.js';
import { fleetView } from './fleet-view.js';
import { SensorHistory } from './sensor-history.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './assets.js';

export interface PageOptions {
  readonly listen: HttpListen;
  /** The page token (http.tokenFile); see the header comment for when it is needed. */
  readonly token: string;
  /** Live streams at once (http.maxClients). */
  readonly maxClients: number;
  readonly wallClock?: () => number;
}

export interface PageServer {
  readonly server: Server;
  /** The port listened on (the configured one, or the one chosen for port 0 in tests). */
  readonly port: number;
  readonly history: SensorHistory;
  /** Live streams open now. */
  readonly clients: () => number;
  close(): Promise<void>;
}

/** Request headers beyond this are answered 431: the page's own requests send under 1 KiB. */
const MAX_HEADER_BYTES = 8192;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_BODY = 1024;
/** A comment line on each stream this often, so a client that vanished is noticed and let go. */
const STREAM_PING_MS = 15_000;
/** Bytes a live stream may have unsent before its client counts as stalled and is dropped. */
const MAX_STREAM_BUFFER = 256 * 1024;

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startPage(backend: ApiBackend, options: PageOptions): Promise<PageServer> {
  const clock = options.wallClock ?? Date.now;
  const history = new SensorHistory();
  seedHistory(backend, history, clock());
  const streams = new Set<ServerResponse>();
  // The history follows every key change from the start, whether a page is open or not.
  const stopHistory = backend.watch?.subscribe(
    { prefix: '', device: undefined },
    {
      buffered: () => 0,
      send: (e) => {
        if (e.type !== 'kv') return;
        if (e.deleted) history.forget(e.owner, e.key);
        else history.record(e.owner, e.key, e.value, clock());
      },
      drop: () => {},
    },
  );
  const ctx: Ctx = { backend, options, history, streams, clock, port: options.listen.port };
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    (req, res) => {
      handle(req, res, ctx).catch((e: unknown) => fail(res, e));
    },
  );
  // Streams, plus room for the short requests of each page and for idle connections to be evicted.
  limitConnections(server, options.maxClients * 2 + 16);
  const ping = setInterval(() => {
    for (const s of streams) s.write(': ping\n\n');
  }, STREAM_PING_MS);
  ping.unref();
  const { host, port } = options.listen;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`http.listen ${host.includes(':') ? `[${host}]` : host}:${port}: ${e.message}`)));
      server.listen(port, host, () => resolve());
    });
  } catch (e) {
    clearInterval(ping);
    stopHistory?.();
    throw e;
  }
  const bound = server.address();
  ctx.port = typeof bound === 'object' && bound !== null ? bound.port : port;
  return {
    server,
    port: ctx.port,
    history,
    clients: () => streams.size,
    close: () => {
      clearInterval(ping);
      stopHistory?.();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      return closed;
    },
  };
}

interface Ctx {
  readonly backend: ApiBackend;
  readonly options: PageOptions;
  readonly history: SensorHistory;
  readonly streams: Set<ServerResponse>;
  readonly clock: () => number;
  /** The port bound, which Host must name on loopback. */
  port: number;
}

function seedHistory(b: ApiBackend, history: SensorHistory, at: number): void {
  const self = String((b.status() as { id: unknown }).id);
  const ids = [self, ...(b.members() as Array<{ id: unknown }>).map((m) => String(m.id))];
  for (const id of ids) for (const [k, e] of Object.entries(b.keysOf(id) ?? {})) history.record(id, k, e.value, at);
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Ctx): Promise<void> {
  const { options } = ctx;
  const host = req.headers.host ?? '';
  if (options.listen.loopback && !isLoopbackHost(host, ctx.port)) {
    throw new PageError(403, 'forbidden', `Host "${host.slice(0, 200)}" is not this machine; open the page at http://127.0.0.1:${ctx.port}/`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) throw new PageError(403, 'forbidden', `requests from other origins (${origin.slice(0, 200)}) are refused`);
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  const asset = ASSETS.get(path);
  if (asset) {
    if (method !== 'GET' && method !== 'HEAD') throw new PageError(405, 'method-not-allowed', `${path}: only GET`);
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    res.end(method === 'HEAD' ? undefined : asset.body);
    return;
  }
  const route = `${method} ${path}`;
  if (route !== 'GET /v1/fleet' && route !== 'GET /v1/watch' && route !== 'POST /v1/identify') {
    if (path === '/v1/fleet' || path === '/v1/watch' || path === '/v1/identify') throw new PageError(405, 'method-not-allowed', `${method} ${path}: not allowed (the page is read-only but for Identify)`);
    throw new PageError(404, 'not-found', `no such page: ${path.slice(0, 200)}`);
  }
  const authorized = bearerMatches(req.headers.authorization, options.token);
  const needsToken = route === 'POST /v1/identify' || !options.listen.loopback;
  if (needsToken && !authorized) {
    const given = req.headers.authorization !== undefined;
    throw new PageError(401, 'unauthorized', `${given ? 'wrong token' : 'a token is needed'}: open the page with #token=<the token in http.tokenFile> at the end of its address`);
  }
  if (route === 'GET /v1/fleet') return sendJson(res, 200, fleetView(ctx.backend, ctx.history, authorized, ctx.clock()));
  if (route === 'GET /v1/watch') return stream(req, res, ctx);
  return identify(req, res, ctx.backend);
}

/** 127.x.x.x, [::1] or localhost, on our port: a rebound DNS name carries its own name here. */
function isLoopbackHost(host: string, port: number): boolean {
  const m = /^(?:\[::1\]|localhost|127(?:\.\d{1,3}){3}):(\d+)$/.exec(host);
  return m !== null && Number(m[1]) === port;
}

function stream(req: IncomingMessage, res: ServerResponse, ctx: Ctx): void {
  const hub = ctx.backend.watch;
  if (!hub) throw new PageError(404, 'not-found', 'this node has no watch stream');
  if (ctx.streams.size >= ctx.options.maxClients) {
    throw new PageError(503, 'too-many-clients', `${ctx.options.maxClients} pages are open on this node already (http.maxClients); close one and retry`);
  }
  const frame = (o: unknown): string => `data: ${jsonText(o, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}\n\n`;
  const unsubscribe = hub.subscribe(
    { prefix: '', device: undefined },
    {
      buffered: () => (res.writableLength > MAX_STREAM_BUFFER ? Number.MAX_SAFE_INTEGER : res.writableLength),
      send: (e: WatchEvent) => void res.write(frame(e.type === 'kv' && e.value !== null && !(e.value instanceof Uint8Array) ? { ...e, value: apiValue(e.value as Value) } : e)),
      drop: () => res.destroy(),
    },
  );
  if (!unsubscribe) throw new PageError(503, 'too-many-watchers', 'too many watchers on this node; close one and retry');
  ctx.streams.add(res);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...SECURITY_HEADERS });
  res.write(frame({ type: 'hello', id: hub.id }));
  req.socket.setTimeout(0);
  res.on('close', () => {
    unsubscribe();
    ctx.streams.delete(res);
  });
}

async function identify(req: IncomingMessage, res: ServerResponse, b: ApiBackend): Promise<void> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new PageError(415, 'unsupported-media-type', 'send the body as content-type application/json');
  if (!b.hal) throw new PageError(404, 'not-found', 'this node has no LEDs to identify with');
  const body = await readJson(req);
  if (typeof body.target !== 'string' || body.target === '') throw new PageError(400, 'invalid-body', 'body.target: expected a device id');
  const seconds = body.seconds ?? DEFAULT_IDENTIFY_S;
  if (!Number.isInteger(seconds) || (seconds as number) < 1 || (seconds as number) > MAX_IDENTIFY_S) {
    throw new PageError(400, 'invalid-body', `body.seconds: expected whole seconds from 1 to ${MAX_IDENTIFY_S}`);
  }
  try {
    sendJson(res, 200, b.hal.identify(body.target, seconds as number, body.off === true));
  } catch (e) {
    if (e instanceof UnknownMemberError) throw new PageError(404, 'unknown-member', e.message);
    throw new PageError(400, 'rejected', (e as Error).message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new PageError(413, 'body-too-large', `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (j && typeof j === 'object' && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new PageError(400, 'invalid-json', 'request body: expected a JSON object');
}

/** Everything the page loads comes from here: no script, style or connection elsewhere. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const ASSETS = new Map<string, { type: string; body: string }>([
  ['/', { type: 'text/html; charset=utf-8', body: PAGE_HTML }],
  ['/page.css', { type: 'text/css; charset=utf-8', body: PAGE_CSS }],
  ['/page.js', { type: 'text/javascript; charset=utf-8', body: PAGE_JS }],
]);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(jsonText(body, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)) + '\n');
}

function fail(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof PageError) return sendJson(res, e.status, { error: e.code, message: e.message });
  sendJson(res, 500, { error: 'internal', message: (e as Error).message });
}
