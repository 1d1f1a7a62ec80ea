import { describe, expect, it } from 'vitest';
import { ASKER_RATE } from '../../runtime/core/queries.js';
import { answerQueries, runQuery } from '../../runtime/sim/query-run.js';
import { Scenario } from './harness.js';

// An insider (a device holding the fleet key and its own valid device key) asks 1,000 queries a
// second for 3 s. Every other device drops what is past the asker's rate before running
// anything, counts it, and goes on: membership stays whole, and an honest query asked in the
// middle of the flood is answered by everyone.
describe('a flood of queries from one insider', () => {
  it('is dropped and counted at every device; membership and other queries are unaffected', () => {
    const s = new Scenario({ nodes: 16, seed: 11, loss: 0.05 });
    const f = s.fleet;
    answerQueries(f);
    const heardFromInsider = new Map<string, number>();
    f.onEvent((_now, id, e) => {
      if (e.type === 'query' && e.asker.id === 'n001' && id !== 'n001') heardFromInsider.set(id, (heardFromInsider.get(id) ?? 0) + 1);
    });
    f.start();
    f.runUntil(() => s.allAlive(), { maxMs: 30_000, what: 'join' });

    const floodMs = 3000;
    const start = f.now;
    for (let t = 0; t < floodMs; t++) f.after(t, () => f.host('n001').ask('version', new Uint8Array(8), '', 3000));
    f.runFor(1000);
    // An honest question in the middle of the flood.
    const honest = runQuery(f, 'n002', { timeoutMs: 3000 });
    expect(honest.missing).toEqual([]);
    expect(honest.replyMs).toHaveLength(16);
    f.runFor(start + floodMs + 2000 - f.now);

    const others = f.ids.filter((id) => id !== 'n001');
    const allowed = ASKER_RATE.burst + (ASKER_RATE.perS * floodMs) / 1000 + 1;
    for (const id of others) {
      expect(heardFromInsider.get(id) ?? 0, id).toBeLessThanOrEqual(allowed);
      const gate = f.host(id).refusals()['query-budget'] ?? 0;
      const core = f.node(id).stats.get('query-rate-limited');
      // Each of the 3,000 queries was dropped at least once, by the gatekeeper's budget or the asker's rate.
      expect(gate + core, id).toBeGreaterThan(3000 - allowed);
    }
    expect(s.allAlive()).toBe(true);
    expect(s.violations).toEqual([]);
    s.assertInvariants();
  });
});
