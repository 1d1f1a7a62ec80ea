import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDatagram, encodeDatagram, encodeMessage } from '../../runtime/wire/index.js';
import { samples } from './samples.js';

// Golden vectors: the exact bytes of every message type. A change here is a wire-format change:
// it breaks mixed-version fleets and needs a new message type or a new WIRE_VERSION, not an edit.
const file = new URL('../fixtures/wire/golden.json', import.meta.url);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

if (process.env['UPDATE_GOLDEN']) {
  writeFileSync(file, `${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, m]) => [k, hex(encodeMessage(m))])), null, 2)}\n`);
}
const golden = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;

describe('golden vectors', () => {
  it('covers every sample', () => {
    expect(Object.keys(golden).sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(Object.keys(samples))('%s encodes to its golden bytes and decodes back to the same message', (name) => {
    const msg = samples[name]!;
    expect(hex(encodeMessage(msg))).toBe(golden[name]);
    const datagram = Buffer.concat([Buffer.from([1]), Buffer.from(golden[name]!, 'hex')]);
    const { messages, rejected } = decodeDatagram(datagram);
    expect(rejected).toEqual([]);
    expect(messages).toEqual([msg]);
  });

  it('a heartbeat stays small: under 40 bytes', () => {
    expect(encodeMessage(samples['heartbeat']!).length).toBeLessThan(40);
  });

  it('several messages share one datagram behind one version byte', () => {
    const all = Object.values(samples);
    const d = encodeDatagram(all);
    expect(d[0]).toBe(1);
    expect(d.length).toBe(1 + all.reduce((n, m) => n + encodeMessage(m).length, 0));
    expect(decodeDatagram(d).messages).toEqual(all);
  });
});
