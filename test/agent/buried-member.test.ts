// A device the fleet declared dead and then forgot must not come back on an insider's word.
// Heartbeats are not signed, so a forged one names the dead device as well as the device
// itself would; only a signed passport for a later incarnation (its refutation) or a later
// generation (its restart) brings it back. Runs the host, the gatekeeper and the core in
// virtual time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coreView } from '../../runtime/host/assembly.js';
import { NodeHost } from '../../runtime/host/node-host.js';
import { RealTimeScheduler } from '../../runtime/host/scheduler.js';
import { MsgType, type Digest, type Heartbeat, type Message, type NodeRef } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles, withOverrides } from '../../runtime/core/profiles.js';
import { Prng } from '../../runtime/sim/prng.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { signPassport } from '../../runtime/trust/records.js';
import { decodeDatagram, encodeDatagram, sizeOf } from '../../runtime/wire/index.js';

const profile = withOverrides(profiles.lan, { deadRetentionMs: 60_000 });
const X_ADDR = '10.0.0.2:7478';
const EVIL_ADDR = '10.0.0.66:7478';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function observer(): { host: NodeHost; gate: Gatekeeper; sent: { to: string; msgs: Message[] }[] } {
  const t0 = Date.now();
  const clock = (): number => Date.now() - t0;
  let node: Node | undefined;
  const gate = new Gatekeeper({
    self: { id: 'a', gen: 1 },
    key: generateSigningKey(),
    ...coreView(() => node, clock),
  });
  node = new Node({ id: 'a', gen: 1, addr: '10.0.0.1:7478', profile, rng: new Prng(3), size: sizeOf, multicast: true, signer: gate.signer });
  const sent: { to: string; msgs: Message[] }[] = [];
  const host = new NodeHost({ node, clock, scheduler: new RealTimeScheduler(clock), budget: 1200, gate, transport: { send: (to: string, bytes: Uint8Array) => void sent.push({ to, msgs: decodeDatagram(bytes).messages }) } });
  return { host, gate, sent };
}

const hb = (from: NodeRef, seq: number, inc: number): Heartbeat => ({ type: MsgType.Heartbeat, from, inc, seq, intervalMs: 250, kvMax: 0, view: 0 });

describe('a forgotten device stays buried until it signs a later life', () => {
  it('a forged heartbeat (with the replayed passport) from another address brings back neither a dead nor a forgotten device; its own refutation does', () => {
    const { host, gate, sent } = observer();
    host.start();
    const kx = generateSigningKey();
    const x: NodeRef = { id: 'x', gen: 5 };
    const p0 = signPassport(kx, x, 0, false, null);
    for (let seq = 1; seq <= 8; seq++) {
      host.receive(encodeDatagram([p0, hb(x, seq, 0)]), X_ADDR, true);
      vi.advanceTimersByTime(250);
    }
    expect(host.node.statusOf('x')).toBe('alive');
    // x crashes: declared dead within seconds, forgotten after the retention.
    vi.advanceTimersByTime(20_000);
    expect(host.node.statusOf('x')).toBe('dead');
    // Dead, not yet forgotten: a forged heartbeat at the proven incarnation, or claiming a
    // higher one it cannot prove, does not bring it back.
    host.receive(encodeDatagram([p0, hb(x, 500_000, 0)]), EVIL_ADDR, false);
    host.receive(encodeDatagram([p0, hb(x, 500_001, 3)]), EVIL_ADDR, false);
    expect(host.node.statusOf('x')).toBe('dead');
    vi.advanceTimersByTime(profile.deadRetentionMs + 10_000);
    expect(host.node.member('x')).toBeUndefined();
    expect(gate.buried).toBe(1);

    // An insider forges x's heartbeat, with x's own (replayed) passport, from its address.
    sent.length = 0;
    host.receive(encodeDatagram([p0, hb(x, 1_000_000, 0)]), EVIL_ADDR, false);
    // ... and a digest that says x is alive, under an identity of its own.
    const evil: NodeRef = { id: 'evil', gen: 1 };
    const digest: Digest = { type: MsgType.Digest, from: evil, lo: 'a', hi: 'z', reply: false, entries: [{ id: 'x', gen: 5, inc: 0, status: 'alive', hb: 2_000_000, kvMax: 0, addr: EVIL_ADDR }] };
    host.receive(encodeDatagram([signPassport(generateSigningKey(), evil, 0, false, null), digest]), EVIL_ADDR, false);
    vi.advanceTimersByTime(1000);
    expect(host.node.member('x')).toBeUndefined();
    expect(host.refusals()['buried']).toBeGreaterThanOrEqual(2);
    // Whoever speaks for x is told that x is dead: the device itself would refute.
    const told = sent.filter((s) => s.to === EVIL_ADDR).flatMap((s) => s.msgs).filter((m) => m.type === MsgType.Dead);
    expect(told).toMatchObject([{ type: MsgType.Dead, target: x, inc: 0 }]);

    // x was alive after all (a long partition): it refutes with a passport for incarnation 1.
    const p1 = signPassport(kx, x, 1, false, null);
    host.receive(encodeDatagram([p1, hb(x, 9, 1)]), X_ADDR, true);
    expect(host.node.statusOf('x')).toBe('alive');
    expect(host.node.member('x')!.addr).toBe(X_ADDR);
    expect(gate.buried).toBe(0);
    host.stop();
  });
});
