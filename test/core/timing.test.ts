import { describe, expect, it } from 'vitest';
import { profiles, withOverrides } from '../../runtime/core/profiles.js';
import {
  advertisedIntervalMs,
  antiEntropyDelayMs,
  deafThresholdMs,
  firstHeartbeatDelayMs,
  freshEvidenceMs,
  heartbeatDelayMs,
  heartbeatIntervalMs,
  heldAccusationMaxAgeMs,
  initialProgressGapMs,
  isEarly,
  isStalled,
  jittered,
  notifyIntervalMs,
  probeFanout,
  probeRoundDelayMs,
  probeTimeoutMs,
  pullIntervalMs,
  repeatsFor,
  scaleByHealth,
  silenceIntervals,
  unreliableSilenceMs,
  silenceThresholdMs,
  smoothedGapMs,
  stoppedWhileSilent,
  suspicionTimeoutMs,
  sweepIntervalMs,
  unicastLeaseMs,
} from '../../runtime/core/timing.js';

const lan = profiles.lan;
const wifi = profiles.wifi;

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

describe('firstHeartbeatDelayMs', () => {
  it.each([
    [0, 0],
    [0.5, 10],
    [0.999999, 19],
  ])('lan, u %f -> %i ms', (u, ms) => {
    expect(firstHeartbeatDelayMs(lan, u)).toBe(ms);
  });
});

describe('heartbeatDelayMs', () => {
  it.each([
    // Join burst: 15% to 45% of the interval, never under 20 ms.
    [250, true, 0, 37],
    [250, true, 0.5, 75],
    [250, true, 0.999999, 112],
    [100, true, 0, 20],
    [2000, true, 0.5, 600],
    // After the burst: the interval ±10%.
    [250, false, 0, 225],
    [250, false, 0.5, 250],
    [250, false, 0.999999, 275],
    [2000, false, 0.75, 2100],
  ])('lan, interval %i ms, burst %s, u %f -> %i ms', (interval, burst, u, ms) => {
    expect(heartbeatDelayMs(lan, interval, burst, u)).toBe(ms);
  });
});

describe('sweepIntervalMs', () => {
  it.each([
    [100, 50],
    [250, 62],
    [500, 125],
    [1954, 488],
    [4000, 500],
    [19532, 500],
  ])('lan, heartbeat %i ms -> sweep every %i ms', (hb, ms) => {
    expect(sweepIntervalMs(lan, hb)).toBe(ms);
  });
});

describe('antiEntropyDelayMs and probeRoundDelayMs', () => {
  it.each([
    [lan, true, 0, 500],
    [lan, true, 0.999999, 1500],
    [lan, false, 0, 800],
    [lan, false, 0.5, 1000],
    [lan, false, 0.999999, 1200],
    [wifi, true, 0, 1000],
    [wifi, false, 0, 1600],
  ])('%#: first %s, u %f -> %i ms', (p, first, u, ms) => {
    expect(antiEntropyDelayMs(p, first, u)).toBe(ms);
  });
  it.each([
    [lan, 0, 900],
    [lan, 0.999999, 1100],
    [wifi, 0.5, 2000],
  ])('%#: probe round, u %f -> %i ms', (p, u, ms) => {
    expect(probeRoundDelayMs(p, u)).toBe(ms);
  });
});

describe('probeFanout', () => {
  const lan = profiles.lan;
  const miss = (p: number, f: { pings: number; helpers: number }): number => (1 - (1 - p) ** 2) ** f.pings * (1 - (1 - p) ** 4) ** f.helpers;

  it("up to 10% loss a probe is the profile's three pings and four helpers", () => {
    for (const p of [0, 0.01, 0.05, 0.1]) expect(probeFanout(lan, p)).toEqual({ pings: 3, helpers: 4 });
  });

  it('at higher loss adds pings first, then helpers, until a live member fails it within the bound', () => {
    const at20 = probeFanout(lan, 0.2);
    expect(at20.helpers).toBe(4);
    expect(at20.pings).toBeGreaterThan(3);
    expect(miss(0.2, at20)).toBeLessThanOrEqual(lan.probeMissProbability);
    // One ping fewer would not do.
    expect(miss(0.2, { ...at20, pings: at20.pings - 1 })).toBeGreaterThan(lan.probeMissProbability);
  });

  it('stops at the maxima when the bound cannot be met, still far below what the profile counts give', () => {
    const at30 = probeFanout(lan, 0.3);
    expect(at30).toEqual({ pings: lan.maxDirectPings, helpers: lan.maxIndirectProbes });
    expect(miss(0.3, at30)).toBeLessThan(miss(0.3, { pings: 3, helpers: 4 }) / 50);
    expect(probeFanout(lan, 2)).toEqual({ pings: lan.maxDirectPings, helpers: lan.maxIndirectProbes });
  });
});

describe('probeTimeoutMs', () => {
  it.each([
    [1, 0, 100],
    [2, 0, 200],
    [1, 2, 300],
    [2, 8, 1800],
  ] as const)('lan, stage %i, health %i -> %i ms', (stage, score, ms) => {
    expect(probeTimeoutMs(lan, stage, score)).toBe(ms);
  });
});

describe('isEarly and isStalled', () => {
  it.each([
    [998, 1000, true],
    [999, 1000, false],
    [1000, 1000, false],
    [1300, 1000, false],
  ])('lan, fired at %i, due %i -> early %s', (now, due, early) => {
    expect(isEarly(lan, now, due)).toBe(early);
  });
  it.each([
    [1000, 1000, false],
    [1250, 1000, false],
    [1251, 1000, true],
  ])('lan, fired at %i, due %i -> stalled %s', (now, due, stalled) => {
    expect(isStalled(lan, now, due)).toBe(stalled);
  });
});

describe('stoppedWhileSilent', () => {
  it.each([
    // A 4 s freeze at 250 ms heartbeats: the refutation is one or two past the last one heard.
    [1, 4000, 250, true],
    [3, 4000, 250, true],
    [8, 4000, 250, true],
    // A live member on a dead link kept counting: 16 in 4 s.
    [9, 4000, 250, false],
    [16, 4000, 250, false],
    // No new heartbeat (an Ack, a digest with an old count): no evidence either way.
    [0, 4000, 250, false],
    // A short silence (a suspicion of 1 s) leaves room for one only.
    [2, 1000, 250, true],
    [3, 1000, 250, false],
  ])('%i sent in %i ms at %i ms -> %s', (sent, outage, interval, stopped) => {
    expect(stoppedWhileSilent(sent, outage, interval)).toBe(stopped);
  });
});

describe('silence, fresh evidence and deaf thresholds', () => {
  it.each([
    [3, 250, 750],
    [8, 250, 2000],
    [4, 1954, 7816],
  ])('%i intervals of %i ms -> silent after %i ms', (k, gap, ms) => {
    expect(silenceThresholdMs(k, gap)).toBe(ms);
  });
  it.each([
    [750, 600],
    [2000, 1600],
  ])('lan, silence threshold %i ms -> first-hand evidence fresh for %i ms', (silence, ms) => {
    expect(freshEvidenceMs(lan, silence)).toBe(ms);
  });
  it.each([
    [3, 250, 250, 1250],
    [4, 250, 1000, 6000],
    [8, 500, 250, 5000],
  ])('lan, k %i, own %i ms, member %i ms -> deaf after %i ms', (k, own, member, ms) => {
    expect(deafThresholdMs(lan, k, own, member)).toBe(ms);
  });
});

describe('rate limits and leases', () => {
  it.each([
    [lan, 250, 2000, 1000, 200, 6000],
    [wifi, 500, 4000, 3000, 600, 15000],
  ])('%#: heartbeat %i ms -> lease %i ms, notify every %i ms, pull every %i ms, held accusations count for %i ms', (p, hb, lease, notify, pull, held) => {
    expect(unicastLeaseMs(p, hb)).toBe(lease);
    expect(notifyIntervalMs(p)).toBe(notify);
    expect(pullIntervalMs(p)).toBe(pull);
    expect(heldAccusationMaxAgeMs(p)).toBe(held);
  });
});

describe('progress gaps', () => {
  it.each([
    [1000, 1000, 1000],
    [1000, 0, 800],
    [1000, 2000, 1200],
    [250, 1250, 450],
  ])('lan, smoothed %i ms, next gap %i ms -> %f ms', (prev, gap, ms) => {
    expect(smoothedGapMs(lan, prev, gap)).toBeCloseTo(ms, 9);
  });
  it.each([
    [250, 1000],
    [1954, 7816],
  ])('lan, heartbeat %i ms -> a new member expected every %i ms', (hb, ms) => {
    expect(initialProgressGapMs(lan, hb)).toBe(ms);
  });
});

describe('repeatsFor', () => {
  const fourRepeats = withOverrides(lan, { repeatOffsetsMs: [0, 30, 80, 150] });
  it.each([
    [lan, 0, 2],
    [lan, 0.1, 3],
    [lan, 0.2, 5],
    [lan, 0.3, 5],
    [fourRepeats, 0.3, 4],
    [lan, 0.9, 5],
  ])('%#: loss %f -> %i sends', (p, loss, n) => {
    expect(repeatsFor(p, loss)).toBe(n);
  });
});

describe('profiles', () => {
  it('every profile carries the shared tuning with the same values', () => {
    const shared = ['startStaggerMs', 'joinBurstHeartbeats', 'sweepMaxMs', 'timerSlackMs', 'stallMs', 'gcIntervalMs', 'maxDeltaChunks', 'unicastLeaseIntervals', 'relayRepeats'] as const;
    for (const k of shared) expect(wifi[k]).toBe(lan[k]);
  });
});

describe('the silence an unreliable member is given', () => {
  const lan = profiles.lan;
  it.each([
    // Half of a 0.9 delivery: 16 intervals, the fleet's longest, whatever the short outage.
    [0.9, 1_500, 4_000],
    // Half of a 0.2 delivery: 88 intervals (0.9^88 < 1e-4).
    [0.2, 1_500, 22_000],
    // 1.5 outages when they are longer.
    [0.9, 20_000, 30_000],
    [0.9, 10_000, 15_000],
    // Never over the cap, however little arrives.
    [0.02, 1_500, 30_000],
  ])('delivery %f, outage %i ms -> probed after %i ms of silence at 250 ms intervals', (delivery, outageMs, ms) => {
    expect(unreliableSilenceMs(lan, delivery, 250, outageMs)).toBe(ms);
  });
});
