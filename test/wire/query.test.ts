import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { MsgType } from '../../runtime/core/messages.js';
import { decodeDatagram } from '../../runtime/wire/index.js';

const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
const datagram = (item: unknown[]): Uint8Array => Buffer.concat([Buffer.from([1]), encoder.encode(item)]);
const ref = ['pi-a', 3];

describe('query messages on the wire', () => {
  it('refuses a query payload over the limit, naming the field', () => {
    const d = decodeDatagram(datagram([MsgType.Query, ref, 1, 'version', new Uint8Array(600), '', 3000]));
    expect(d.messages).toEqual([]);
    expect(d.rejected).toEqual([{ reason: 'invalid-field', detail: 'Query.payload: expected at most 512 bytes, got 600 bytes' }]);
  });

  it('refuses a timeout outside the bounds and an unknown reply status', () => {
    expect(decodeDatagram(datagram([MsgType.Query, ref, 1, 'version', new Uint8Array(), '', 3_600_000])).rejected[0]!.detail).toBe(
      'Query.timeoutMs: expected 100 to 60000, got number 3600000',
    );
    expect(decodeDatagram(datagram([MsgType.QueryReply, ['pi-b', 1], ref, 1, 9, new Uint8Array()])).rejected[0]!.detail).toBe(
      'QueryReply.status: expected a reply status code 0-2, got number 9',
    );
  });

  it('refuses a reply body sent as text instead of bytes', () => {
    expect(decodeDatagram(datagram([MsgType.QueryReply, ['pi-b', 1], ref, 1, 0, 'hello'])).rejected[0]!.detail).toBe('QueryReply.body: expected bytes, got "hello"');
  });
});
