// `murmur watch`: changes to the shared state and to membership, one line each, as this node
// learns them, until Ctrl-C, a closed pipe (`murmur watch | head`), or the node going away.

import { request, type IncomingMessage } from 'node:http';
import { escapeJsonControl } from '../log/escape.js';
import { connectOptions, readStreamLines, refusedStream, streamRequestError } from './api-client.js';
import { CliError, type CliIo } from './io.js';
import { elide, EXIT, palette, printable, showValue, statusPaint, terminal, textWidth, TARGET_OPTIONS_HELP, type Palette, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const watchHelp = `usage: murmur watch [--prefix P] [--device ID] [options]

Prints each change as this node learns it, until Ctrl-C:
  12:04:31  solo      set  temp = 21.5  (v3)
  12:04:32  solo      set  sensor/cpu/temperature = 48.3 °C  (v7)
  12:04:33  solo      del  temp  (v4)
  12:04:40  pi-attic  is suspect (was alive)
  12:04:52  pi-attic  restarted, gen 1795446012
${para('Sensor readings are shown decoded; on a terminal, long values are cut to keep one change per line. With --json: the API\'s stream as it comes, one JSON object per line (NDJSON), starting with {"type":"hello"}. When the node stops, watch says so and exits 3.')}

options:
${optionLines([
  ['--prefix P', 'only keys starting with P (e.g. sensor/)'],
  ['--device ID', 'only changes of that device: its keys and its membership'],
  ...TARGET_OPTIONS,
])}`;

type Event = Record<string, unknown>;

export async function watchCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('watch', args, { valued: ['--prefix', '--device'] }, watchHelp, io);
  if (p.positional.length > 0) throw new CliError(`murmur watch: unexpected argument "${p.positional[0]!}" (use --prefix to choose keys)\n\n${watchHelp}`);
  const query = new URLSearchParams();
  const prefix = p.options.get('--prefix');
  const device = p.options.get('--device');
  if (typeof prefix === 'string') query.set('prefix', prefix);
  if (typeof device === 'string') query.set('device', device);
  const socket = p.target().socket;
  const to = connectOptions(socket);
  const path = `/v1/watch${query.size > 0 ? `?${query.toString()}` : ''}`;
  const term = terminal(io);
  const pal = palette(term.color);

  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (code: number | CliError): void => {
      if (done) return;
      done = true;
      stopOutputErrors();
      stopSignals();
      req.destroy();
      if (typeof code === 'number') resolve(code);
      else reject(code);
    };
    // `murmur watch | head -3`: the reader went away. That is how a pipeline ends, not an error.
    const stopOutputErrors = io.onOutputError((e) => finish(e.code === 'EPIPE' ? 0 : new CliError(`murmur watch: stdout: ${e.message}`, 1)));
    // Ctrl-C is how a person ends a watch: done, not failed.
    const stopSignals = io.onSignal(() => finish(0));

    const wentAway = (): CliError => new CliError(`murmur watch: the node at ${socket} went away (stopped or restarted); run "murmur status" to check`, EXIT.notRunning);
    const req = request({ ...to, method: 'GET', path, headers: { ...to.headers, accept: 'application/x-ndjson' } });
    req.on('error', (e: NodeJS.ErrnoException) => finish(streamRequestError('murmur watch', socket, e, wentAway)));
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) return refusedStream('murmur watch', res, finish);
      let idWidth = 8;
      readStreamLines(
        res,
        () => done,
        (line) => {
          if (p.json) {
            io.out(escapeJsonControl(line));
            if (line.startsWith('{"type":"dropped"')) finish(new CliError('murmur watch: the node dropped this watch (its output was not read fast enough)', EXIT.refused));
            return;
          }
          let ev: Event;
          try {
            ev = JSON.parse(line) as Event;
          } catch {
            return;
          }
          if (ev.type === 'dropped') {
            finish(new CliError(`murmur watch: the node dropped this watch (${String(ev.why)}); is the output being read?`, EXIT.refused));
            return;
          }
          if (ev.type === 'hello') {
            io.err(`watching ${String(ev.id)}${typeof prefix === 'string' ? `, keys ${prefix}*` : ''}${typeof device === 'string' ? `, device ${device}` : ''}; Ctrl-C to stop`);
            return;
          }
          let parts = renderEvent(ev, pal);
          if (parts === undefined) return;
          // Devices line up: the column is as wide as the longest id seen so far.
          idWidth = Math.max(idWidth, textWidth(parts[0]));
          const lead = `${clock(new Date())}  ${parts[0]}${' '.repeat(idWidth - textWidth(parts[0]))}  `;
          // On a terminal a long value is cut to keep one change per line; piped, it is whole.
          const over = textWidth(lead + parts[1]) - term.width;
          if (term.tty && over > 0) parts = renderEvent(ev, pal, Math.max(12, textWidth(showValue(ev.value)) - over)) ?? parts;
          io.out(lead + parts[1]);
        },
        () => finish(wentAway()),
      );
    });
    req.end();
  });
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
/** Local wall-clock time of a line, HH:MM:SS. */
function clock(d: Date): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** One event as [device, what happened]; undefined for types this CLI does not know. */
export function renderEvent(ev: Event, p: Palette, valueWidth = Infinity): [string, string] | undefined {
  if (ev.type === 'kv') {
    const owner = printable(String(ev.owner));
    const key = printable(String(ev.key));
    const v = typeof ev.version === 'number' ? `  (v${ev.version})` : '';
    if (ev.deleted === true) return [owner, `${p.red('del')}  ${key}${v}`];
    return [owner, `${p.green('set')}  ${key} = ${elide(showValue(ev.value), valueWidth)}${v}`];
  }
  if (ev.type === 'member') {
    const status = printable(String(ev.status));
    const id = printable(String(ev.id));
    const gen = typeof ev.gen === 'number' ? `, gen ${ev.gen}` : '';
    if (status === 'removed') return [id, p.grey('forgotten (dead or left for long enough)')];
    if (ev.previous === 'restarted') return [id, `${p.green('restarted')}${gen}`];
    if (ev.previous === undefined || ev.previous === null) return [id, `${p.green('joined')}${gen}`];
    return [id, `is ${statusPaint(p, status)(status)} (was ${printable(String(ev.previous))})`];
  }
  return undefined;
}
