import { describe, expect, it } from 'vitest';
import { answerQueries, runQuery } from '../../runtime/sim/query-run.js';
import { Scenario } from './harness.js';

describe('fleet queries in the simulator', () => {
  it('N=8: every device answers, the asker included, and nobody is missing', () => {
    const s = new Scenario({ nodes: 8, seed: 3, loss: 0.1 });
    answerQueries(s.fleet);
    s.fleet.start();
    s.fleet.runUntil(() => s.allAlive(), { maxMs: 30_000, what: 'join' });
    const r = runQuery(s.fleet, 'n000', { timeoutMs: 3000 });
    expect(r.replyMs).toHaveLength(8);
    expect(r.missing).toEqual([]);
    s.assertInvariants();
  });
});
