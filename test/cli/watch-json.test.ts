import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchCommand } from '../../runtime/cli/watch-command.js';
import { recordingIo } from './recording-io.js';

let dir: string;
let server: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-watch-json-'));
});
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('murmur watch --json', () => {
  it('writes a C1 control (U+009B, a one-byte CSI) from the stream as \\u009b, never raw', async () => {
    const socket = join(dir, 'api.sock');
    // A node that sends the character raw, as JSON.stringify writes it: the CLI must not pass it on.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(JSON.stringify({ type: 'hello', id: 'me', prefix: '', device: null }) + '\n');
      res.write(JSON.stringify({ type: 'kv', owner: 'pi\u009b2J\u2028', key: 'k\u007f', value: 1, version: 1 }) + '\n');
    });
    await new Promise<void>((r) => server!.listen(socket, r));
    const io = recordingIo();
    const out = io.outLines;
    const exited = watchCommand(['--json', '--socket', socket], io);
    // Stop as Ctrl-C would, once the event after the greeting has been written.
    await vi.waitFor(() => expect(out.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    io.signal('SIGINT');
    expect(await exited).toBe(0);
    expect(out[1]).toBe('{"type":"kv","owner":"pi\\u009b2J\\u2028","key":"k\\u007f","value":1,"version":1}');
    expect(out.join('\n')).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
    expect(JSON.parse(out[1]!)).toMatchObject({ owner: 'pi\u009b2J\u2028' });
  });
});
