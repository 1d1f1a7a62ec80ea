import { describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../runtime/core/effects.js';
import { MULTICAST } from '../../runtime/core/effects.js';
import { MsgType, type Message } from '../../runtime/core/messages.js';
import { parseFault } from '../../runtime/sim/faults.js';
import { InvariantViolation } from '../../runtime/sim/invariants.js';
import { Scenario } from './harness.js';

// The harness checks the protocol's rules on every event and stops the run at the first broken
// one, with one line that names the rule, the node, the virtual time and how to replay the run.

function caught(f: () => void): InvariantViolation {
  try {
    f();
  } catch (e) {
    if (e instanceof InvariantViolation) return e;
    throw e;
  }
  throw new Error('expected an invariant violation, and the run went through');
}

/** A run that breaks no-false-death: a partition made behind the harness's back, not as a fault. */
function unexcusedPartition(seed: number): InvariantViolation {
  const s = new Scenario({ nodes: 8, seed, loss: 0.1 });
  s.fleet.fault({ kind: 'clock-step', node: 'n002', stepMs: 86_400_000, atMs: 500 });
  s.fleet.start();
  s.within(3_000, 'join', () => s.allAlive());
  s.fleet.partition([s.fleet.ids.slice(0, 4), s.fleet.ids.slice(4)]);
  return caught(() => s.run(20_000));
}

describe('invariant harness', () => {
  it('stops at the first violation with one line: rule, node, virtual time, seed, options and faults; the same seed replays it exactly', () => {
    const v = unexcusedPartition(31);
    expect(v.rule).toBe('no-false-death');
    expect(v.message.split('\n')).toHaveLength(1);
    expect(v.message).toMatch(new RegExp(`^invariant no-false-death broken at t=${v.at}ms by ${v.node}: declared n00\\d@1, running and untouched by any fault, dead`));
    expect(v.message).toContain('replay: seed=31 nodes=8 profile=lan loss=0.1 ');
    expect(v.message).toContain(`t=${v.at}ms`);
    // The fault is in the line in its text form, with its absolute start, and reads back.
    const text = /fault=(\S+)/.exec(v.message)![1]!;
    expect(parseFault(text)).toEqual({ kind: 'clock-step', node: 'n002', stepMs: 86_400_000, atMs: 500 });
    // Stopped at the first: nothing ran past the violation.
    expect(v.at).toBeLessThan(3_000 + 20_000);
    expect(unexcusedPartition(31).message).toBe(v.message);
  });

  it('the fault items of a replay line, given back as the fleet option, replay the same run', () => {
    const v = unexcusedPartition(34);
    const faults = [...v.replay.matchAll(/fault=(\S+)/g)].map((m) => parseFault(m[1]!));
    const s = new Scenario({ nodes: 8, seed: 34, loss: 0.1, faults });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    s.fleet.partition([s.fleet.ids.slice(0, 4), s.fleet.ids.slice(4)]);
    expect(caught(() => s.run(20_000)).message).toBe(v.message);
  });

  it('the same partition made as a fault excuses the deaths it causes', () => {
    const s = new Scenario({ nodes: 8, seed: 31, loss: 0.1 });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    s.fleet.fault({ kind: 'partition', mode: 'halves', forMs: 20_000 });
    s.run(20_000);
    s.within(5_000, 'whole again', () => s.allBack());
    s.assertInvariants();
  });

  it('a fault on one node excuses its death and its verdicts, not those of the healthy nodes', () => {
    const s = new Scenario({ nodes: 8, seed: 32 });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    s.fleet.fault({ kind: 'loss', node: 'n006', p: 1 });
    const inv = s.invariants;
    const dead = (victim: string, sources: string[]): CoreEvent => ({
      type: 'member-status',
      member: { id: victim, gen: 1 },
      status: 'dead',
      previous: 'suspect',
      verdict: 'dead',
      previousVerdict: 'alive',
      sources,
    });
    expect(() => inv.check(s.now, 'n000', dead('n006', ['n000', 'n001']))).not.toThrow();
    expect(() => inv.check(s.now, 'n006', dead('n001', ['n006', 'n005']))).not.toThrow();
    expect(caught(() => inv.check(s.now, 'n000', dead('n001', ['n000', 'n002']))).rule).toBe('no-false-death');
  });

  describe('each rule, on the event that breaks it', () => {
    const s = new Scenario({ nodes: 4, seed: 33 });
    s.fleet.start();
    s.run(1_000);
    for (const id of s.fleet.ids) s.mayDie.add(id);
    const inv = s.invariants;
    const status = (observer: string, victim: string, st: 'suspect' | 'dead' | 'alive', at: number, sources: string[] = []): void =>
      inv.check(at, observer, { type: 'member-status', member: { id: victim, gen: 1 }, status: st, previous: 'alive', verdict: st === 'suspect' ? 'alive' : st, previousVerdict: 'alive', sources });

    it('two-sources: one source before the maximum suspicion is a violation; at the maximum, or with two sources, it is not', () => {
      status('n000', 'n001', 'suspect', 10_000, ['n000']);
      const v = caught(() => status('n000', 'n001', 'dead', 15_999, ['n000']));
      expect(v.rule).toBe('two-sources');
      expect(v.message).toContain('declared n001@1 dead on 1 source(s) [n000] after 5999 ms of suspicion; one source needs the full 6000 ms unrefuted');
      status('n000', 'n002', 'suspect', 10_000, ['n000']);
      expect(() => status('n000', 'n002', 'dead', 16_000, ['n000'])).not.toThrow();
      status('n001', 'n002', 'suspect', 10_000, ['n001']);
      expect(() => status('n001', 'n002', 'dead', 10_500, ['n001', 'n003'])).not.toThrow();
      // A refutation in between restarts the clock.
      status('n002', 'n003', 'suspect', 10_000, ['n002']);
      status('n002', 'n003', 'alive', 12_000);
      status('n002', 'n003', 'suspect', 13_000, ['n002']);
      expect(caught(() => status('n002', 'n003', 'dead', 16_000, ['n002'])).rule).toBe('two-sources');
    });

    it('self-alive: a node that holds itself suspect', () => {
      const v = caught(() => status('n003', 'n003', 'suspect', 20_000, ['n001']));
      expect(v.rule).toBe('self-alive');
      expect(v.node).toBe('n003');
    });

    it('generation-monotonic: an observer that goes back to an older life of a member', () => {
      inv.check(21_000, 'n001', { type: 'member-restarted', member: { id: 'n002', gen: 3 }, previousGen: 1 });
      const v = caught(() => inv.check(21_500, 'n001', { type: 'member-joined', member: { id: 'n002', gen: 2 }, addr: 'sim:n002' }));
      expect(v.rule).toBe('generation-monotonic');
      expect(v.message).toContain('member-joined of n002@2 after it had seen generation 3');
    });

    it('version-monotonic: an observer whose version of a key goes backwards', () => {
      const kv = (version: number): CoreEvent => ({ type: 'kv-changed', owner: { id: 'n003', gen: 1 }, key: 'k', value: version, version });
      inv.check(22_000, 'n000', kv(5));
      expect(caught(() => inv.check(22_001, 'n000', kv(4))).rule).toBe('version-monotonic');
    });

    it('budget: a datagram over the budget stops the run where it is sent', () => {
      const big: Message = { type: MsgType.Leave, from: { id: 'x'.repeat(4_000), gen: 1 }, inc: 0 };
      const v = caught(() => s.fleet.network.send(s.now, s.fleet.addressOf('n001'), MULTICAST, new Uint8Array(s.fleet.opts.profile.datagramBudget + 1)));
      expect(v.rule).toBe('budget');
      expect(v.node).toBe('n001');
      expect(v.message).toContain(`exceeded the ${s.fleet.opts.profile.datagramBudget}-byte budget`);
    });
  });
});
