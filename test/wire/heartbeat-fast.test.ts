import { Decoder, Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { MsgType, type Heartbeat, type Message } from '../../runtime/core/messages.js';
import { Prng } from '../../runtime/sim/prng.js';
import { readHeartbeat } from '../../runtime/wire/heartbeat-fast.js';
import { decodeDatagram, encodeMessage, MAX_ID_LENGTH, MAX_MESSAGES, scanItem } from '../../runtime/wire/index.js';
import { toMessage } from '../../runtime/wire/validate.js';

// As runtime/wire/datagram.ts decodes.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** What the general path makes of the item at `pos`: the message and its end, or undefined when it rejects it. */
function general(b: Uint8Array, pos: number): { msg: Message; end: number } | undefined {
  try {
    const end = scanItem(b, pos);
    return { msg: toMessage(decoder.decode(b.subarray(pos, end))), end };
  } catch {
    return undefined;
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789-_.ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function uintOf(rng: Prng): number {
  // Every CBOR width: immediate, 1, 2, 4 and (now and then) 8 bytes.
  const widths = [23, 255, 65_535, 0xffff_ffff];
  const most = rng.next() < 0.05 ? Number.MAX_SAFE_INTEGER : widths[rng.int(widths.length)]!;
  return Math.floor(rng.next() * (most + 1));
}

function heartbeatOf(rng: Prng): Heartbeat {
  const len = 1 + rng.int(MAX_ID_LENGTH + 8);
  let id = '';
  for (let i = 0; i < len; i++) id += rng.next() < 0.005 ? 'é' : ALPHABET[rng.int(ALPHABET.length)]!;
  return {
    type: MsgType.Heartbeat,
    from: { id, gen: uintOf(rng) },
    inc: uintOf(rng),
    seq: uintOf(rng),
    intervalMs: uintOf(rng),
    kvMax: uintOf(rng),
    view: uintOf(rng) % 0x1_0000_0000,
    ...(rng.next() < 0.3 ? { unicastMe: true as const } : {}),
  };
}

describe('reading a heartbeat without the general decoder', () => {
  it('reads what the encoder writes exactly as the general path does, or leaves it to that path', () => {
    const rng = new Prng(11);
    let read = 0;
    for (let i = 0; i < 5_000; i++) {
      const m = heartbeatOf(rng);
      const b = encodeMessage(m);
      const fast = readHeartbeat(b, 0);
      const slow = general(b, 0);
      if (fast) {
        read++;
        expect(fast).toEqual(slow);
        expect(Object.keys(fast.msg)).toEqual(Object.keys(slow!.msg));
      } else {
        // Left to the general path only for what the fast one does not take.
        const large = [m.from.gen, m.inc, m.seq, m.intervalMs, m.kvMax].some((x) => x > 0xffff_ffff);
        expect(large || /[^\x00-\x7f]/.test(m.from.id) || m.from.id.length > MAX_ID_LENGTH).toBe(true);
      }
    }
    // Most of them: ids are ASCII and most integers fit 4 bytes.
    expect(read).toBeGreaterThan(2_000);
  });

  it('never returns a message the general path would reject or read differently, whatever the bytes', () => {
    const rng = new Prng(12);
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = Uint8Array.from(encodeMessage(heartbeatOf(rng)));
      // Damage it: flip bytes, cut it short, or both.
      const flips = rng.int(4);
      for (let f = 0; f < flips; f++) b[rng.int(b.length)] = rng.int(256);
      const cut = rng.next() < 0.3 ? b.subarray(0, rng.int(b.length)) : b;
      const fast = readHeartbeat(cut, 0);
      if (!fast) continue;
      read++;
      expect(fast).toEqual(general(cut, 0));
    }
    expect(read).toBeGreaterThan(1_000);
  });

  it('agrees with the general path on the edge cases, by reading them or by leaving them to it', () => {
    const raw = new Encoder({ useRecords: false, tagUint8Array: false });
    const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
    const n1 = { type: MsgType.Heartbeat, from: { id: 'n1', gen: 5 }, inc: 0, seq: 9, intervalMs: 250, kvMax: 0, view: 7 };
    // [item, what the fast path does, what the general path makes of it: a message or undefined (refused)]
    const cases: [Uint8Array, 'read' | 'left', Message | undefined][] = [
      [raw.encode([1, ['', 5], 0, 9, 250, 0, 7]), 'left', undefined], // empty id
      [raw.encode([1, ['n1', 5, 'x'], 0, 9, 250, 0, 7]), 'left', n1], // a longer ref
      [raw.encode([1, ['n1', 5], 0, 9, 250, 0, 7, 2]), 'read', n1], // an 8th field that is not 1
      [raw.encode([1, ['n1', 5], 0, 9, 250, 0, 7, 'yes']), 'left', n1],
      [raw.encode([1, ['n1', 5], 0, 9, 250, 0, 7, true]), 'left', n1],
      [raw.encode([1, ['n1', 5], 0, 9, 250, 0, 7, 0, 'future']), 'left', n1], // trailing fields
      [raw.encode([1, ['pi-é', 5], 0, 9, 250, 0, 7]), 'left', { ...n1, from: { id: 'pi-é', gen: 5 } }],
      [raw.encode([1, ['n1', 2 ** 40], 0, 9, 250, 0, 7]), 'left', { ...n1, from: { id: 'n1', gen: 2 ** 40 } }],
      [raw.encode([1, ['n1', 5], 0, 9, 250, 0, 2 ** 32]), 'left', undefined], // view past 32 bits
      [raw.encode([1, ['n1', 5], -1, 9, 250, 0, 7]), 'left', undefined],
      [raw.encode([1, ['n1', 5], 0.5, 9, 250, 0, 7]), 'left', undefined],
      [raw.encode([1, ['x'.repeat(MAX_ID_LENGTH + 1), 5], 0, 9, 250, 0, 7]), 'left', undefined],
      [raw.encode([1, ['x'.repeat(MAX_ID_LENGTH), 5], 0, 9, 250, 0, 7]), 'read', { ...n1, from: { id: 'x'.repeat(MAX_ID_LENGTH), gen: 5 } }],
      // gen as a half float 1.0, and an 8th field of 1.0: cbor-x reads both as the integer 1.
      [hex('8701826161f93c00000118fa0007'), 'left', { type: MsgType.Heartbeat, from: { id: 'a', gen: 1 }, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 7 }],
      [hex('880182626e3105000918fa0007f93c00'), 'left', { ...n1, unicastMe: true }],
      // Integers and an id length in longer forms than needed: read as the short forms are.
      [hex('870182626e311a00000005180019000918fa1a0000000007'), 'read', n1],
      [hex('87018278026e3105000918fa0007'), 'read', n1],
    ];
    for (const [item, fastDoes, generalGives] of cases) {
      const fast = readHeartbeat(item, 0);
      const slow = general(item, 0);
      expect(slow?.msg).toEqual(generalGives);
      if (fastDoes === 'read') expect(fast).toEqual(slow);
      else expect(fast).toBeUndefined();
    }
  });

  it('counts heartbeats against the messages a datagram may hold, past a recipient mark', () => {
    const hb = encodeMessage({ type: MsgType.Heartbeat, from: { id: 'n1', gen: 5 }, inc: 0, seq: 9, intervalMs: 250, kvMax: 0, view: 7 });
    const parts = [1, 0x82, 23, 0];
    for (let i = 0; i < MAX_MESSAGES + 3; i++) parts.push(...hb);
    const r = decodeDatagram(Uint8Array.from(parts));
    expect(r.messages).toHaveLength(MAX_MESSAGES);
    expect(r.rejected.map((x) => x.reason)).toEqual(['too-many-messages']);
  });

  it('decodes heartbeats among other messages in their order', () => {
    const hb: Heartbeat = { type: MsgType.Heartbeat, from: { id: 'pi-kitchen-03', gen: 1_790_000_000 }, inc: 2, seq: 70_000, intervalMs: 250, kvMax: 17, view: 0xdeadbeef };
    const leave: Message = { type: MsgType.Leave, from: { id: 'pi-kitchen-03', gen: 1_790_000_000 }, inc: 2 };
    const d = Uint8Array.from([1, ...encodeMessage(hb), ...encodeMessage(leave), ...encodeMessage({ ...hb, unicastMe: true })]);
    const r = decodeDatagram(d);
    expect(r.rejected).toEqual([]);
    expect(r.messages).toEqual([hb, leave, { ...hb, unicastMe: true }]);
  });
});
