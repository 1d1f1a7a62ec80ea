// The metrics listener (metrics.listen): GET /metrics on an address a Prometheus server on the
// LAN can reach, and nothing else.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { formatListen, parseListen } from '../config/metrics-listen.js';
import { refuse, Refusal, serveMetrics, type MetricsScraper } from './metrics-route.js';
import { limitConnections } from './server.js';
import { bearerMatches } from './token.js';

export interface MetricsListenerOptions {
  /** The bearer token every scrape must carry (Prometheus: authorization.credentials_file). */
  readonly token: string;
}

/**
 * Open connections at most: Prometheus keeps one per server scraping, and a few servers scrape a
 * node. Past it the oldest with no request in progress is closed, so clients that never finish
 * their headers cannot keep a scraper out.
 */
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
  limitConnections(server, MAX_CONNECTIONS);
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
