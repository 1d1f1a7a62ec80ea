// GET /metrics: the node's Prometheus metrics, on the local API and (metrics.listen, see
// metrics-listener.ts) on an address a Prometheus server on the LAN can reach. Read-only: nothing a request says changes
// the node. A scrape costs a walk over the node's counters; scrapes that come together share
// one walk, and one walk serves every scrape for SCRAPE_REUSE_MS, so a flood of requests costs
// the node at most one collection per that period.

import type { IncomingMessage, ServerResponse } from 'node:http';

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
export class Refusal extends Error {
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

export function refuse(res: ServerResponse, r: Refusal, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: r.code, message: r.message }) + '\n';
  res.writeHead(r.status, { 'content-type': 'application/json', ...headers, ...(r.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(body);
}
