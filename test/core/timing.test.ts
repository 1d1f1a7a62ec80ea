import { describe, expect, it } from 'vitest';
import { profiles, withOverrides } from '../../runtime/core/profiles.js';
import { advertisedIntervalMs, heartbeatIntervalMs, jittered, scaleByHealth, silenceIntervals, suspicionTimeoutMs } from '../../runtime/core/timing.js';

const lan = profiles.lan;

describe('heartbeatIntervalMs', () => {
  it.each([
    [1, 250],
    [16, 250],
    [128, 250],
    [256, 500],
    [1000, 1954],
    [1024, 2000],
    // Identities are cheap for an insider: past maxFleetSize they no longer slow the heartbeat.
    [4097, 2000],
    [10000, 2000],
  ])('lan, %i nodes -> %i ms', (n, ms) => {
    expect(heartbeatIntervalMs(lan, n)).toBe(ms);
  });

  it('wifi: a fleet at the cap heartbeats every 8 s, never slower', () => {
    expect(heartbeatIntervalMs(profiles.wifi, 1024)).toBe(8000);
    expect(heartbeatIntervalMs(profiles.wifi, 4097)).toBe(8000);
  });
});

describe('advertisedIntervalMs: what a member may claim is bounded by what the fleet size justifies', () => {
  it.each([
    // n, advertised, believed
    [2, 250, 250],
    [2, 2 ** 31, 1000],
    [128, 2 ** 31, 1000],
    [256, 1800, 1800],
    [1000, 2 ** 31, 7816],
    [4097, 2 ** 31, 8000],
    [2, 1, 250],
  ])('lan, %i nodes, advertised %i ms -> %i ms', (n, advertised, ms) => {
    expect(advertisedIntervalMs(lan, n, advertised)).toBe(ms);
  });

  it('never above 10 s, whatever the profile and fleet', () => {
    expect(advertisedIntervalMs(profiles.wifi, 4097, 2 ** 31)).toBe(10_000);
    expect(advertisedIntervalMs(profiles.wifi, 2, 2 ** 31)).toBe(2000);
  });
});

describe('silenceIntervals', () => {
  it.each([
    [0, 3],
    [0.01, 3],
    [0.1, 4],
    [0.2, 6],
    [0.3, 8],
    [0.5, 14],
    [0.9, 16],
  ])('lan, loss %f -> %i intervals', (loss, k) => {
    expect(silenceIntervals(lan, loss)).toBe(k);
  });

  it('keeps the chance of a false local suspicion under the profile bound where it can', () => {
    for (const loss of [0.05, 0.1, 0.2, 0.3]) {
      const k = silenceIntervals(lan, loss);
      expect(loss ** k).toBeLessThanOrEqual(lan.silenceProbability * (1 + 1e-9));
    }
  });
});

describe('suspicionTimeoutMs (Lifeguard)', () => {
  it.each([
    [0, 6000],
    [1, 3250],
    [2, 1641],
    [3, 500],
    [10, 500],
  ])('min 500 max 6000 expected 3, %i confirmations -> %i ms', (c, ms) => {
    expect(suspicionTimeoutMs(500, 6000, c, 3)).toBe(ms);
  });

  it('never goes below min, and with no expected confirmations is min', () => {
    expect(suspicionTimeoutMs(500, 6000, 100, 3)).toBe(500);
    expect(suspicionTimeoutMs(500, 6000, 0, 0)).toBe(500);
  });
});

describe('scaleByHealth and jittered', () => {
  it('scales linearly with the awareness score', () => {
    expect(scaleByHealth(200, 0)).toBe(200);
    expect(scaleByHealth(200, 3)).toBe(800);
  });
  it('jitters within ±fraction', () => {
    expect(jittered(1000, 0.1, 0)).toBe(900);
    expect(jittered(1000, 0.1, 0.5)).toBe(1000);
    expect(jittered(1000, 0.1, 0.999999)).toBe(1100);
  });
  it('withOverrides leaves the base profile untouched', () => {
    const p = withOverrides(lan, { heartbeatMinMs: 100 });
    expect(p.heartbeatMinMs).toBe(100);
    expect(lan.heartbeatMinMs).toBe(250);
  });
});
