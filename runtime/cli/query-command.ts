// `murmur query NAME [PAYLOAD]`: ask every device of the fleet, print each answer as it comes,
// then who did not answer by the deadline.

import { request, type IncomingMessage } from 'node:http';
import { MAX_QUERY_PAYLOAD } from '../core/queries.js';
import { escapeJsonControl } from '../log/escape.js';
import { connectOptions, readStreamLines, refusedStream, streamRequestError } from './api-client.js';
import { CliError, type CliIo } from './io.js';
import { EXIT, optionLines, palette, para, parseDuration, printable, TARGET_OPTIONS, type Palette, terminal } from './format.js';
import { parseArgs } from './target-args.js';

export const queryHelp = `usage: murmur query NAME [PAYLOAD] [--timeout 3s] [--device-prefix P] [options]

Asks every device NAME, prints each answer as it comes, then who did not answer:
  pi-hall     ok     0.1.0                           (12 ms)
  pi-attic    ok     0.1.0                           (31 ms)
  pi-garage   error  df: exit 1: /mnt: No such file  (40 ms)
  2 of 3 answered with ok in 3.0 s; 1 did not answer: pi-shed
${para(`Built-in queries every device answers: version, uptime (seconds), sensors (its latest readings, JSON) and config-hash (of its effective config, its name left out: devices configured alike agree). Others are commands a device's config names under "queries" (README "Fleet queries"); a device that has no such query answers "unknown". PAYLOAD (at most ${MAX_QUERY_PAYLOAD} bytes) goes to the command on stdin. With --json: the API's stream, one JSON object per line. Exit 0 when every device answered ok, 1 otherwise.`)}

options:
${optionLines([
  ['--timeout DURATION', 'how long to wait for answers: 500ms, 3s, 1m (default 3s, at most 60s)'],
  ['--device-prefix P', 'ask only the devices whose id starts with P'],
  ...TARGET_OPTIONS,
])}`;

type Event = Record<string, unknown>;

export async function queryCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('query', args, { valued: ['--timeout', '--device-prefix'] }, queryHelp, io);
  const [name, payload, extra] = p.positional;
  if (name === undefined) throw new CliError(`murmur query: expected the name of a query (version, uptime, sensors, config-hash, or one the config names)\n\n${queryHelp}`);
  if (extra !== undefined) throw new CliError(`murmur query: unexpected argument "${extra}" (quote a payload with spaces)\n\n${queryHelp}`);
  const bytes = Buffer.byteLength(payload ?? '', 'utf8');
  if (bytes > MAX_QUERY_PAYLOAD) {
    throw new CliError(`murmur query: PAYLOAD is ${bytes} bytes, over the ${MAX_QUERY_PAYLOAD}-byte limit (a query travels in one datagram); put bulk data somewhere the devices can fetch it and send its name`);
  }
  let timeoutMs = 3000;
  const t = p.options.get('--timeout');
  if (typeof t === 'string') {
    const ms = parseDuration(t);
    if (ms === undefined || ms < 100 || ms > 60_000) throw new CliError(`murmur query: --timeout: expected a duration from 100ms to 60s, such as 3s, got "${t}"`);
    timeoutMs = ms;
  }
  const prefix = p.options.get('--device-prefix');
  const body = JSON.stringify({ name, ...(payload !== undefined ? { payload } : {}), ...(typeof prefix === 'string' ? { prefix } : {}), timeoutMs });
  const socket = p.target().socket;
  const to = connectOptions(socket);
  const pal = palette(terminal(io).color);

  return new Promise<number>((resolve, reject) => {
    let done = false;
    let ok = 0;
    let replies = 0;
    const finish = (code: number | CliError): void => {
      if (done) return;
      done = true;
      stopOutputErrors();
      stopSignals();
      req.destroy();
      if (typeof code === 'number') resolve(code);
      else reject(code);
    };
    const stopOutputErrors = io.onOutputError((e) => finish(e.code === 'EPIPE' ? 0 : new CliError(`murmur query: stdout: ${e.message}`, 1)));
    const stopSignals = io.onSignal(() => finish(1));
    const wentAway = (): CliError => new CliError(`murmur query: the node at ${socket} went away before the query's deadline; run "murmur status" to check`, EXIT.notRunning);
    const req = request({ ...to, method: 'POST', path: '/v1/query', headers: { ...to.headers, 'content-type': 'application/json', accept: 'application/x-ndjson' } });
    req.on('error', (e: NodeJS.ErrnoException) => finish(streamRequestError('murmur query', socket, e, wentAway)));
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) return refusedStream('murmur query', res, finish);
      readStreamLines(
        res,
        () => done,
        (line) => {
          let ev: Event;
          try {
            ev = JSON.parse(line) as Event;
          } catch {
            return;
          }
          if (p.json) io.out(escapeJsonControl(line));
          if (ev.type === 'asked') {
            if (!p.json) io.err(`asking ${String(ev.expected)} device${ev.expected === 1 ? '' : 's'} "${printable(String(ev.name))}", waiting ${formatMs(Number(ev.timeoutMs))}`);
          } else if (ev.type === 'reply') {
            replies++;
            if (ev.status === 'ok') ok++;
            if (!p.json) io.out(renderReply(ev, pal));
          } else if (ev.type === 'done') {
            const missing = Array.isArray(ev.missing) ? ev.missing.map((m) => printable(String(m))) : [];
            if (!p.json) io.out(summary(replies, ok, missing, Number(ev.ms)));
            finish(missing.length === 0 && ok === replies ? EXIT.ok : EXIT.refused);
          }
        },
        () => finish(wentAway()),
      );
    });
    req.end(body);
  });
}

/** One reply: device, status, the answer on one line (control characters escaped), time since asking. */
export function renderReply(ev: Event, p: Palette): string {
  const status = String(ev.status);
  const paint = status === 'ok' ? p.green : status === 'error' ? p.red : p.grey;
  const body = printable(String(ev.body).trimEnd());
  return `${printable(String(ev.from)).padEnd(10)}  ${paint(status.padEnd(7))}  ${body}  (${String(ev.ms)} ms)`;
}

export function summary(replies: number, ok: number, missing: readonly string[], ms: number): string {
  const head = `${ok} of ${replies + missing.length} answered with ok in ${formatMs(ms)}`;
  const errs = replies - ok;
  const parts = [head, ...(errs > 0 ? [`${errs} answered with an error or "unknown"`] : []), missing.length === 0 ? 'every device answered' : `${missing.length} did not answer: ${missing.join(', ')}`];
  return parts.join('; ');
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
