// One sample of every message type (and the interesting variants), shared by the golden-vector
// and round-trip tests.
import { MsgType, type Message } from '../../runtime/core/messages.js';

const a = { id: 'pi-a', gen: 3 };
const b = { id: 'pi-b', gen: 1 };

export const samples: Record<string, Message> = {
  heartbeat: { type: MsgType.Heartbeat, from: a, inc: 2, seq: 1234, intervalMs: 250, kvMax: 17, view: 0xdeadbeef },
  heartbeatAskingUnicast: { type: MsgType.Heartbeat, from: a, inc: 2, seq: 1234, intervalMs: 250, kvMax: 17, view: 0xdeadbeef, unicastMe: true },
  ping: { type: MsgType.Ping, from: a, target: b, probe: 9 },
  ack: { type: MsgType.Ack, from: b, probe: 9, inc: 0 },
  pingReq: { type: MsgType.PingReq, from: a, target: b, targetAddr: '192.0.2.7:7946', probe: 10 },
  suspect: { type: MsgType.Suspect, from: a, target: b, inc: 0 },
  dead: { type: MsgType.Dead, from: a, target: b, inc: 1 },
  leave: { type: MsgType.Leave, from: b, inc: 4 },
  digest: {
    type: MsgType.Digest,
    from: a,
    lo: 'pi-a',
    hi: 'pi-c',
    reply: true,
    entries: [
      { id: 'pi-a', gen: 3, inc: 2, status: 'alive', hb: 1234, kvMax: 17, addr: '192.0.2.5:7946' },
      { id: 'pi-b', gen: 1, inc: 0, status: 'suspect', hb: 99, kvMax: 0, addr: '192.0.2.7:7946' },
      { id: 'pi-c', gen: 7, inc: 1, status: 'left', hb: 5, kvMax: 3, addr: '[fe80::1%eth0]:7946' },
    ],
  },
  deltaValues: {
    type: MsgType.Delta,
    from: b,
    owner: a,
    fromV: 10,
    toV: 17,
    reset: false,
    entries: [
      { key: 'sensor/temp', version: 11, value: -4.25, ttlMs: 0 },
      { key: 'sensor/count', version: 12, value: 42, ttlMs: 0 },
      { key: 'health', version: 13, value: 'ok', ttlMs: 60_000 },
      { key: 'alarm', version: 14, value: false, ttlMs: 0 },
      { key: 'blob', version: 17, value: new Uint8Array([1, 2, 3, 255]), ttlMs: 0 },
    ],
  },
  query: {
    type: MsgType.Query,
    from: a,
    qid: 7,
    name: 'disk-free',
    payload: new Uint8Array([0x2f, 0x76, 0x61, 0x72]),
    prefix: 'pi-',
    timeoutMs: 3000,
    sig: new Uint8Array(64).fill(0xab),
  },
  queryReply: { type: MsgType.QueryReply, from: b, asker: a, qid: 7, status: 'ok', body: new Uint8Array([0x34, 0x32, 0x25]), sig: new Uint8Array(64).fill(0xcd) },
  queryReplyUnknown: { type: MsgType.QueryReply, from: b, asker: a, qid: 8, status: 'unknown', body: new Uint8Array() },
  deltaTombstone: {
    type: MsgType.Delta,
    from: a,
    owner: a,
    fromV: 0,
    toV: 5,
    reset: true,
    entries: [{ key: 'gone', version: 5, value: null, ttlMs: 0 }],
  },
};
