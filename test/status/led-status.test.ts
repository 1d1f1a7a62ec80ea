import { describe, expect, it } from 'vitest';
import { LedStatusMachine, type PeerStatus, type StatusSnapshot } from '../../runtime/status/led-status.js';

const peers = (spec: Record<string, PeerStatus>): StatusSnapshot['peers'] => Object.entries(spec).map(([id, status]) => ({ id, status }));
const snap = (now: number, p: Record<string, PeerStatus>, extra: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  now,
  peers: peers(p),
  health: 0,
  loss: 0,
  problems: [],
  identify: false,
  ...extra,
});

describe('LED status machine', () => {
  it('boots, searches when nobody answers, and is healthy once peers are alive', () => {
    const m = new LedStatusMachine(0);
    expect(m.update(snap(1000, {})).status).toBe('booting');
    expect(m.update(snap(5000, {})).status).toBe('searching');
    expect(m.update(snap(6000, { a: 'alive', b: 'alive' })).status).toBe('healthy');
  });

  it('leaves booting as soon as a peer is heard', () => {
    const m = new LedStatusMachine(0);
    expect(m.update(snap(500, { a: 'alive' })).status).toBe('healthy');
  });

  it('is isolated, not searching, when it had peers and all became unreachable', () => {
    const m = new LedStatusMachine(0);
    m.update(snap(6000, { a: 'alive', b: 'alive' }));
    const d = m.update(snap(7000, { a: 'suspect', b: 'dead' }));
    expect(d.status).toBe('isolated');
    expect(d.reasons[0]).toContain('2 known');
    // Once the node forgets them (garbage collection), there is nobody to be isolated from.
    expect(m.update(snap(600_000, {})).status).toBe('searching');
  });

  it.each<[string, Partial<StatusSnapshot>, Record<string, PeerStatus>, string]>([
    ['a suspect peer', {}, { a: 'alive', b: 'suspect', c: 'alive' }, '1 peer suspect'],
    ['high loss', { loss: 0.25 }, { a: 'alive' }, 'high loss (25%)'],
    ['a slow device', { health: 4 }, { a: 'alive' }, 'this device is slow (health 4)'],
  ])('is degraded by %s', (_name, extra, p, reason) => {
    const m = new LedStatusMachine(0);
    m.update(snap(6000, { a: 'alive', b: 'alive', c: 'alive' }));
    const d = m.update(snap(7000, p, extra));
    expect(d.status).toBe('degraded');
    expect(d.reasons).toContain(reason);
  });

  it('shows an unreliable peer as one steady degraded state: reachable, never isolated or a partition', () => {
    const m = new LedStatusMachine(0, { degradedHoldMs: 10_000 });
    m.update(snap(6000, { a: 'alive', b: 'alive' }));
    const d = m.update(snap(7000, { a: 'alive', b: 'unreliable' }));
    expect(d.status).toBe('degraded');
    expect(d.reasons).toEqual(['1 peer unreliable']);
    // Both peers unreliable: still reachable, so not isolated, and no partition is suspected.
    const both = m.update(snap(8000, { a: 'unreliable', b: 'unreliable' }));
    expect(both.status).toBe('degraded');
    expect(both.reasons).toEqual(['2 peers unreliable']);
    // Back to alive: the usual hold, then healthy.
    expect(m.update(snap(15_000, { a: 'alive', b: 'alive' })).status).toBe('degraded');
    expect(m.update(snap(18_001, { a: 'alive', b: 'alive' })).status).toBe('healthy');
  });

  it('does not count a little loss or a single missed ack as degraded', () => {
    const m = new LedStatusMachine(0);
    expect(m.update(snap(6000, { a: 'alive' }, { loss: 0.05, health: 1 })).status).toBe('healthy');
    // The core reports 20% until it has seen enough heartbeats: a fresh node is not degraded.
    expect(m.update(snap(7000, { a: 'alive' }, { loss: 0.2 })).status).toBe('healthy');
  });

  it('suspects a partition when many peers are lost at once, not when one long-dead peer lingers', () => {
    const m = new LedStatusMachine(0);
    const fleet: Record<string, PeerStatus> = { a: 'alive', b: 'alive', c: 'alive', d: 'alive', e: 'alive', f: 'alive' };
    m.update(snap(6000, fleet));
    const d = m.update(snap(7000, { ...fleet, d: 'dead', e: 'dead', f: 'dead' }));
    expect(d.status).toBe('degraded');
    expect(d.reasons.join()).toContain('partition suspected (3 of 6');
    // A minute later the dead are old news: one dead device among the living is not degraded.
    const later = new LedStatusMachine(0);
    later.update(snap(6000, fleet));
    later.update(snap(7000, { ...fleet, f: 'dead' }));
    expect(later.update(snap(60_000, { ...fleet, f: 'dead' })).status).toBe('healthy');
  });

  it('holds degraded for a while after it clears, so the LED does not flap', () => {
    const m = new LedStatusMachine(0, { degradedHoldMs: 10_000 });
    m.update(snap(6000, { a: 'alive', b: 'alive' }));
    expect(m.update(snap(7000, { a: 'alive', b: 'suspect' })).status).toBe('degraded');
    const held = m.update(snap(12_000, { a: 'alive', b: 'alive' }));
    expect(held.status).toBe('degraded');
    expect(held.reasons[0]).toBe('1 peer suspect, cleared');
    expect(m.update(snap(17_001, { a: 'alive', b: 'alive' })).status).toBe('healthy');
  });

  it('ignores peers that left', () => {
    const m = new LedStatusMachine(0);
    m.update(snap(6000, { a: 'alive', b: 'alive' }));
    expect(m.update(snap(7000, { a: 'alive', b: 'left' })).status).toBe('healthy');
    expect(m.update(snap(8000, { b: 'left' })).status).toBe('searching');
  });

  it('shows errors over everything but identify, and identify over everything', () => {
    const m = new LedStatusMachine(0);
    const err = m.update(snap(1000, { a: 'alive' }, { problems: ['hal.leds[0].pin: 99 is past the chip'] }));
    expect(err).toEqual({ status: 'error', reasons: ['hal.leds[0].pin: 99 is past the chip'] });
    expect(m.update(snap(1000, { a: 'suspect' }, { problems: ['x'], identify: true })).status).toBe('identify');
  });
});

describe('fleet key mismatch', () => {
  it('is reported when refusals keep coming while no peer is reachable', async () => {
    const { KeyMismatchWatch } = await import('../../runtime/status/key-mismatch.js');
    const w = new KeyMismatchWatch();
    expect(w.update(0, 0, 0)).toBeUndefined();
    expect(w.update(1000, 2, 0)).toBeUndefined();
    expect(w.update(2000, 5, 0)).toContain('fleet key mismatch: 5 datagrams');
    // Peers alive: the refusals are someone else's problem.
    expect(w.update(3000, 9, 2)).toBeUndefined();
    // Old refusals age out of the window.
    expect(w.update(40_000, 9, 0)).toBeUndefined();
  });
});

describe('identify requests from other devices', () => {
  it('count only as the API makes them: true, with a TTL of 1 s to an hour', async () => {
    const { isIdentifyRequest, identifyRequesters, identifyKey } = await import('../../runtime/status/identify.js');
    expect(isIdentifyRequest({ value: true, ttlMs: 120_000 })).toBe(true);
    expect(isIdentifyRequest({ value: true, ttlMs: 0 })).toBe(false);
    expect(isIdentifyRequest({ value: true, ttlMs: 3_600_001 })).toBe(false);
    expect(isIdentifyRequest({ value: 'yes', ttlMs: 1000 })).toBe(false);
    expect(isIdentifyRequest(undefined)).toBe(false);
    const held = new Map([[`a ${identifyKey('me')}`, true], [`b ${identifyKey('other')}`, true]]);
    expect(identifyRequesters('me', ['a', 'b', 'c'], (o, k) => held.get(`${o} ${k}`) === true)).toEqual(['a']);
  });
});
