// Talking to the local node's API from the command line: where its socket is, and one request.
// The API is the Unix socket, or with --socket HOST:PORT the loopback TCP listener (api.tcp),
// whose every request carries the bearer token read from api.tokenFile.

import { existsSync } from 'node:fs';
import { request, type IncomingMessage, type RequestOptions } from 'node:http';
import { readApiToken } from '../api/token.js';
import { parseLoopbackListen, type LoopbackListen } from '../config/api-listen.js';
import { apiSocketPath, apiTokenPath, ConfigError, loadConfig } from '../config/config.js';
import { CliError } from './io.js';

/** Exit code when the local node is not running: the command itself was fine. */
export const EXIT_NOT_RUNNING = 3;

export interface Target {
  /** A Unix socket path, or a loopback "HOST:PORT" for the TCP API. */
  readonly socket: string;
  readonly stateDir: string;
  /** Set when the node was found where the options did not say: which one, for stderr. */
  readonly note?: string;
}

/** Where `npm start` keeps its node's state, relative to the checkout it runs in. */
export const DEV_STATE_DIR = '.murmur-dev';

/**
 * The token file of each TCP endpoint resolveTarget returned. Commands pass the endpoint on as
 * a string; only this module reads the token, and only when it talks to that endpoint.
 */
const tokenFiles = new Map<string, string>();

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
  const socket = opts.socket ?? apiSocketPath(config);
  if (tcpEndpoint(socket) !== undefined) tokenFiles.set(socket, apiTokenPath(config));
  const named = opts.config !== undefined || opts.stateDir !== undefined || opts.socket !== undefined || opts.fleetConfig !== undefined;
  if (!named && !existsSync(socket)) {
    // No node at the default place, but one that `npm start` started in this directory: that
    // is the node a person trying murmur from a checkout means.
    const dev = resolveTarget({ stateDir: DEV_STATE_DIR });
    if (existsSync(dev.socket)) {
      return { ...dev, note: `murmur: no node at ${socket}; using the one in ./${DEV_STATE_DIR} (started by "npm start"). Pass --state-dir or --config to choose.` };
    }
  }
  return { socket, stateDir: config.node.stateDir };
}

function tcpEndpoint(socket: string): LoopbackListen | undefined {
  try {
    return parseLoopbackListen(socket);
  } catch {
    return undefined;
  }
}

/** How to reach `socket` with node:http: its path, or (TCP) the address and the bearer token. */
export function connectOptions(socket: string): RequestOptions {
  const tcp = tcpEndpoint(socket);
  if (tcp === undefined) return { socketPath: socket };
  const file = tokenFiles.get(socket);
  if (file === undefined) throw new CliError(`API at ${socket}: no token file is known for it; pass --state-dir or --config with --socket`, 1);
  let token: string;
  try {
    token = readApiToken(file);
  } catch (e) {
    throw new CliError((e as Error).message, 1);
  }
  return { host: tcp.host, port: tcp.port, headers: { authorization: `Bearer ${token}` } };
}

export class NotRunningError extends CliError {
  constructor(socket: string, why: string) {
    super(`murmur is not running here: no API at ${socket} (${why}); start it with "murmur start", or pass --state-dir/--config/--socket`, EXIT_NOT_RUNNING);
  }
}

/**
 * The error of a long-lived stream request (`murmur watch`, `murmur query`): no node there, the
 * node went away mid-stream (`wentAway` says what that means for the command), or anything else.
 */
export function streamRequestError(command: string, socket: string, e: NodeJS.ErrnoException, wentAway: () => CliError): CliError {
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return new NotRunningError(socket, e.code);
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return wentAway();
  return new CliError(`${command}: API at ${socket}: ${e.message}`, 1);
}

/** Reads a refused stream's JSON error body and hands `done` the error it names (status alone when the body is not JSON). */
export function refusedStream(command: string, res: IncomingMessage, done: (e: CliError) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => {
    let body: { message?: unknown; error?: unknown } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      // Reported by status alone.
    }
    done(new CliError(`${command}: ${String(body.message ?? `HTTP ${res.statusCode ?? 0}`)} (${String(body.error ?? 'error')})`, 1));
  });
}

/**
 * Reads an accepted stream's NDJSON: each non-empty line, trimmed, goes to `onLine` until
 * `stopped()` says the command has finished (a partial line waits for the rest of it). The
 * stream ending for any reason before that means the node went away: `wentAway` is called.
 */
export function readStreamLines(res: IncomingMessage, stopped: () => boolean, onLine: (line: string) => void, wentAway: () => void): void {
  res.setEncoding('utf8');
  let buffered = '';
  res.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while (!stopped() && (nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line !== '') onLine(line);
    }
  });
  res.on('end', wentAway);
  res.on('close', wentAway);
  res.on('error', wentAway);
}

/** What to do when the socket (or its directory) is not open to this user. */
export function permissionHint(socket: string): string {
  return (
    `API at ${socket}: permission denied (EACCES). The socket and its directory belong to the user murmur runs as. ` +
    `Run this as that user or with sudo, or set api.group in the node's config to a group you are in ` +
    `(e.g. api.group: murmur-admin; see "id -Gn") and restart the node: the socket becomes usable by that group.`
  );
}

export function apiRequest(socket: string, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    let to: RequestOptions;
    try {
      to = connectOptions(socket);
    } catch (e) {
      reject(e as Error);
      return;
    }
    const req = request(
      { ...to, method, path, headers: { ...to.headers, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) } },
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
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new NotRunningError(socket, e.code));
      else if (e.code === 'EACCES') reject(new CliError(permissionHint(socket), 1));
      else reject(new CliError(`API at ${socket}: ${e.message}`, 1));
    });
    req.end(data);
  });
}

/** Exit code when the key, device or sensor asked for does not exist. */
export const EXIT_NOT_FOUND = 4;

/**
 * Turn an API error body into a CLI error naming what the node refused: exit 4 when the thing
 * asked for does not exist, else 1. A 404 "not-found" means the endpoint itself is missing (a
 * node of another version), which is a refusal, not a missing key.
 */
export function check(r: { status: number; body: Record<string, unknown> }, what: string): Record<string, unknown> {
  if (r.status >= 200 && r.status < 300) return r.body;
  const code = r.status === 404 && r.body.error !== 'not-found' ? EXIT_NOT_FOUND : 1;
  throw new CliError(`${what}: ${String(r.body.message ?? `HTTP ${r.status}`)} (${String(r.body.error ?? 'error')})`, code);
}
