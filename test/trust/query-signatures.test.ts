// Fleet queries under the authority rules: a query counts only if its asker signed it, a reply
// only if its replier signed it for this very query, and only replies to this node's own queries
// are taken at all.
import { describe, expect, it } from 'vitest';
import { MsgType, type Message, type NodeRef, type Query, type QueryReply } from '../../runtime/core/messages.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { signPassport, signQuery, signQueryReply } from '../../runtime/trust/records.js';

const me: NodeRef = { id: 'me', gen: 10 };
const pi: NodeRef = { id: 'pi-hall', gen: 3 };
const insider: NodeRef = { id: 'insider', gen: 5 };
const keys = { me: generateSigningKey(), pi: generateSigningKey(), insider: generateSigningKey() };

function gate(): Gatekeeper {
  let now = 0;
  const g = new Gatekeeper({ self: me, key: keys.me, held: { version: () => undefined, max: () => 0 }, isMember: () => true, clock: () => (now += 1) });
  g.admit([signPassport(keys.pi, pi, 0, false, null), signPassport(keys.insider, insider, 0, false, null)], new Set());
  return g;
}

const query = (from: NodeRef, qid: number): Query => ({ type: MsgType.Query, from, qid, name: 'version', payload: new Uint8Array(), prefix: '', timeoutMs: 3000 });
const reply = (from: NodeRef, asker: NodeRef, qid: number, body = 'v1'): QueryReply => ({
  type: MsgType.QueryReply,
  from,
  asker,
  qid,
  status: 'ok',
  body: new TextEncoder().encode(body),
});
const admit = (g: Gatekeeper, m: Message): Message[] => g.admit([m], new Set());

describe('queries and replies at the gatekeeper', () => {
  it('admits a query signed by its asker; refuses one signed by another device or unsigned', () => {
    const g = gate();
    const q = query(pi, 1);
    expect(admit(g, { ...q, sig: signQuery(keys.pi, q) })).toHaveLength(1);
    const forged = query(pi, 2);
    expect(admit(g, { ...forged, sig: signQuery(keys.insider, forged) })).toEqual([]);
    expect(admit(g, query(pi, 3))).toEqual([]);
    // A signature over one payload does not cover another.
    const signed = { ...q, sig: signQuery(keys.pi, q) };
    expect(admit(g, { ...signed, payload: new Uint8Array([1]) })).toEqual([]);
    expect(Object.fromEntries(g.refused)).toMatchObject({ 'bad-signature': 2, unsigned: 1 });
  });

  it('admits a reply signed by its replier for this query; refuses a forged, replayed or misdirected one', () => {
    const g = gate();
    const r = reply(pi, me, 7);
    expect(admit(g, { ...r, sig: signQueryReply(keys.pi, r) })).toHaveLength(1);
    // The insider answers in pi-hall's name: refused.
    const forged = reply(pi, me, 8, 'v0-evil');
    expect(admit(g, { ...forged, sig: signQueryReply(keys.insider, forged) })).toEqual([]);
    // pi-hall's genuine answer to query 7, replayed as an answer to query 9: refused.
    expect(admit(g, { ...r, qid: 9, sig: signQueryReply(keys.pi, r) })).toEqual([]);
    // A reply to someone else's query is not ours to check.
    const other = reply(pi, insider, 7);
    expect(admit(g, { ...other, sig: signQueryReply(keys.pi, other) })).toEqual([]);
    expect(Object.fromEntries(g.refused)).toMatchObject({ 'bad-signature': 2, 'misdirected-reply': 1 });
  });

  it('query signature checks have a budget per source: a flood is dropped and counted before it costs more', () => {
    const g = gate();
    let admitted = 0;
    for (let i = 0; i < 1000; i++) {
      const q = query(insider, i + 1);
      admitted += g.admit([{ ...q, sig: signQuery(keys.insider, q) }], new Set(), undefined, { addr: '10.0.0.66:7478' }).length;
    }
    expect(admitted).toBeLessThan(100);
    expect(g.refused.get('query-budget')).toBe(1000 - admitted);
  });
});
