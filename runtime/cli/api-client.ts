// Talking to the local node's API from the command line: where its socket is, and one request.

import { request } from 'node:http';
import { apiSocketPath, ConfigError, loadConfig } from '../config/config.js';
import { CliError } from './io.js';

/** Exit code when the local node is not running: the command itself was fine. */
export const EXIT_NOT_RUNNING = 3;

export interface Target {
  readonly socket: string;
  readonly stateDir: string;
}

/** Resolve the node's socket and state directory from --config (and --fleet-config), --state-dir and --socket. */
export function resolveTarget(opts: { config?: string | undefined; stateDir?: string | undefined; socket?: string | undefined; fleetConfig?: string | undefined }): Target {
  const overrides: Record<string, unknown> = {};
  if (opts.stateDir !== undefined) overrides['node.stateDir'] = opts.stateDir;
  let config;
  try {
    config = loadConfig(opts.config, overrides, opts.fleetConfig !== undefined ? { fleetFile: opts.fleetConfig } : {});
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, 78);
    throw e;
  }
  return { socket: opts.socket ?? apiSocketPath(config), stateDir: config.node.stateDir };
}

export class NotRunningError extends CliError {
  constructor(socket: string, why: string) {
    super(`murmur is not running here: no API at ${socket} (${why}); start it with "murmur start", or pass --state-dir/--config/--socket`, EXIT_NOT_RUNNING);
  }
}

export function apiRequest(socket: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath: socket, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            // An empty or non-JSON body is reported by status alone.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new NotRunningError(socket, e.code));
      else reject(new CliError(`API at ${socket}: ${e.message}`, 1));
    });
    req.end(data);
  });
}

/** Turn an API error body into a CLI error (exit 1) naming what the node refused. */
export function check(r: { status: number; body: Record<string, unknown> }, what: string): Record<string, unknown> {
  if (r.status >= 200 && r.status < 300) return r.body;
  throw new CliError(`${what}: ${String(r.body.message ?? `HTTP ${r.status}`)} (${String(r.body.error ?? 'error')})`, 1);
}
