// GET /metrics: the node's Prometheus metrics, on the local API and (metrics.listen) on an
// address a Prometheus server on the LAN can reach. Read-only: nothing a request says changes
// the node. A scrape costs a walk over the node's counters; scrapes that come together share
// one walk, and one walk serves every scrape for SCRAPE_REUSE_MS, so a flood of requests costs
// the node at most one collection per that period.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { formatListen, parseListen } from '../config/metrics-listen.js';
import { bearerMatches } from './token.js';

export interface MetricsScraper {
  scrape(): Promise<{ text: string; contentType: string }>;
}

/** Prometheus scrapes every 15 s or so; anything faster is the same numbers again. */
const SCRAPE_REUSE_MS = 1000;

/** A scraper whose result is shared by scrapes within SCRAPE_REUSE_MS of each other. */
export function sharedScraper(inner: MetricsScraper, clock: () => number = () => performance.now()): MetricsScraper {
  let last: { at: number; result: Promise<{ text: string; contentType: string }> } | undefined;
  return {
    scrape() {
      const now = clock();
      if (last === undefined || now - last.at >= SCRAPE_REUSE_MS) {
        const result = inner.scrape();
        last = { at: now, result };
        // A failed collection is not kept: the next scrape tries again.
        result.catch(() => {
          if (last?.result === result) last = undefined;
        });
      }
      return last.result;
    },
  };
}

/** Why a metrics request was refused: the HTTP status and the message. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Answers GET (or HEAD) /metrics; `scraper` undefined means metrics are off. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, scraper: MetricsScraper | undefined): Promise<void> {
  const method = req.method ?? 'GET';
  if (scraper === undefined) return refuse(res, new Refusal(404, 'metrics-off', 'metrics are off on this node: set metrics.enabled: true'));
  if (method !== 'GET' && method !== 'HEAD') return refuse(res, new Refusal(405, 'method-not-allowed', `${method} /metrics: metrics are read-only, use GET`), { allow: 'GET, HEAD' });
  let m;
  try {
    m = await scraper.scrape();
  } catch (e) {
    return refuse(res, new Refusal(500, 'internal', `metrics: ${(e as Error).message}`));
  }
  res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.text), 'cache-control': 'no-cache' });
  res.end(method === 'HEAD' ? undefined : m.text);
}

function refuse(res: ServerResponse, r: Refusal, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: r.code, message: r.message }) + '\n';
  res.writeHead(r.status, { 'content-type': 'application/json', ...headers, ...(r.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(body);
}

export interface MetricsListenerOptions {
  /** The bearer token every scrape must carry (Prometheus: authorization.credentials_file). */
  readonly token: string;
}

/** Open connections at most: Prometheus needs one per server scraping, and a few servers scrape a node. */
const MAX_CONNECTIONS = 8;
/** Largest request header block: a scrape's headers are a few hundred bytes; bigger is answered 431. */
const MAX_HEADER_BYTES = 8192;
/** A client has this long to send its headers, and to take the answer, before its connection is closed. */
const CLIENT_TIMEOUT_MS = 10_000;

/**
 * /metrics on `address`, for a Prometheus server on the LAN. Only this path is served; every
 * request needs the bearer token (anyone on the network can connect, so the token is what
 * admits a scraper), and requests from web pages (an Origin header) are refused, as on the API's
 * TCP listener. The Host header is not checked, unlike the API's: a LAN scraper may use any
 * name for the device, and a page that rebinds a name to it still lacks the token.
 */
export async function startMetricsListener(address: string, scraper: MetricsScraper, options: MetricsListenerOptions): Promise<Server> {
  let listen;
  try {
    listen = parseListen(address);
  } catch (e) {
    throw new Error(`metrics.listen: "${address}": ${(e as Error).message}`);
  }
  const server = createServer(
    { headersTimeout: CLIENT_TIMEOUT_MS / 2, requestTimeout: CLIENT_TIMEOUT_MS, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000, maxHeaderSize: MAX_HEADER_BYTES },
    (req, res) => {
      answer(req, res, scraper, options.token).catch((e: unknown) => refuse(res, new Refusal(500, 'internal', (e as Error).message)));
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connection', (socket) => {
    // A scraper that stops reading its answer must not hold the connection (and the answer) forever.
    socket.setTimeout(CLIENT_TIMEOUT_MS, () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`metrics.listen ${formatListen(listen)}: ${e.message}`)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}

async function answer(req: IncomingMessage, res: ServerResponse, scraper: MetricsScraper, token: string): Promise<void> {
  if (req.headers.origin !== undefined) return refuse(res, new Refusal(403, 'forbidden', 'requests from web pages (with an Origin header) are refused'));
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') return refuse(res, new Refusal(404, 'not-found', 'only /metrics is served here'));
  if (!bearerMatches(req.headers.authorization, token)) {
    return refuse(res, new Refusal(401, 'unauthorized', 'every scrape needs "Authorization: Bearer <token>", with the token from the file metrics.tokenFile names (metrics-token in the state directory)'));
  }
  return serveMetrics(req, res, scraper);
}
