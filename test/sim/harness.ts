// Scenario support: a Fleet plus invariants that are checked on every event, not only at the
// end (TigerBeetle-style). A violation fails the test with the replay line of the run.

import type { Profile } from '../../runtime/core/profiles.js';
import { profiles } from '../../runtime/core/profiles.js';
import { Fleet, type FleetOptions } from '../../runtime/sim/fleet.js';
import { Invariants } from '../../runtime/sim/invariants.js';

export interface ScenarioOptions extends Partial<FleetOptions> {
  readonly nodes: number;
  readonly seed: number;
  readonly profile?: Profile;
}

export class Scenario {
  readonly fleet: Fleet;
  /** The protocol's rules, checked on every event: the first broken one throws with its replay line. */
  readonly invariants: Invariants;
  readonly #seen = new Set<string>();

  constructor(opts: ScenarioOptions) {
    this.fleet = new Fleet({ profile: profiles.lan, ...opts });
    this.fleet.onEvent((_now, id, e) => {
      if (e.type === 'member-joined' || e.type === 'member-restarted') this.#seen.add(`${id}>${e.member.id}`);
    });
    this.invariants = new Invariants(this.fleet);
  }

  /** Members whose death is expected (crashed, or cut off by a partition the test made). */
  get mayDie(): Set<string> {
    return this.invariants.mayDie;
  }

  /** Violations found so far (the run stops at the first, so at most one unless a test caught it and went on). */
  get violations(): string[] {
    return this.invariants.violations.map((v) => v.message);
  }

  get now(): number {
    return this.fleet.now;
  }

  /** Rules on counters (every event was checked as it happened); call at the end of every scenario. */
  assertInvariants(): void {
    this.invariants.checkTotals();
    const net = this.fleet.network;
    const oversize = this.fleet.runningIds().reduce((n, id) => n + this.fleet.host(id).oversizeRefused, 0);
    if (oversize > 0) throw new Error(`${oversize} datagrams the cores produced did not fit the budget; replay: ${this.fleet.describe()}`);
    if (net.rejected > 0) {
      throw new Error(`${net.rejected} datagrams from honest nodes were rejected: ${[...net.rejectedReasons]}; replay: ${this.fleet.describe()}`);
    }
  }

  /** True when every running node knows every other running node as alive (at its current generation). */
  allAlive(ids: readonly string[] = this.fleet.runningIds()): boolean {
    for (const a of ids) {
      const node = this.fleet.node(a);
      for (const b of ids) {
        if (a === b) continue;
        const m = node.member(b);
        if (!m || m.status !== 'alive' || m.gen !== this.fleet.node(b).self.gen) return false;
      }
    }
    return true;
  }

  /** A core counter (NodeStats) summed over every node of the fleet. */
  total(counter: string): number {
    return this.fleet.ids.reduce((sum, id) => sum + this.fleet.node(id).stats.get(counter), 0);
  }

  /**
   * True when every running node holds every other running node present and trusted again:
   * alive, or unreliable (back from a silence, on probation: runtime/core/reliability.ts).
   */
  allBack(ids: readonly string[] = this.fleet.runningIds()): boolean {
    for (const a of ids) {
      const node = this.fleet.node(a);
      for (const b of ids) {
        if (a === b) continue;
        const m = node.member(b);
        if (!m || (m.status !== 'alive' && m.status !== 'unreliable') || m.gen !== this.fleet.node(b).self.gen) return false;
      }
    }
    return true;
  }

  /** Every ordered pair has been introduced at least once (the benchmark's join criterion). */
  allMet(ids: readonly string[] = this.fleet.ids): boolean {
    for (const a of ids) for (const b of ids) if (a !== b && !this.#seen.has(`${a}>${b}`)) return false;
    return true;
  }

  allSee(owner: string, key: string, value: unknown, observers: readonly string[] = this.fleet.runningIds()): boolean {
    return observers.every((o) => o === owner || this.fleet.node(o).get(owner, key, this.now) === value);
  }

  allDeclaredDead(victim: string, observers: readonly string[]): boolean {
    return observers.every((o) => o === victim || this.fleet.node(o).statusOf(victim) === 'dead');
  }

  run(ms: number): void {
    this.fleet.runFor(ms);
  }

  /**
   * Run until no running node is joining (runtime/core/profiles.ts joinQuietMs) and every
   * member has heard so: a joining node asks for slack that slows its own detection, and
   * steady-state bounds are measured after it.
   */
  joined(maxMs = 10_000): void {
    const ids = this.fleet.runningIds();
    this.within(maxMs, 'every node done joining, and its members told', () =>
      ids.every((y) => {
        const node = this.fleet.node(y);
        const asks = Math.max(node.heartbeatMs, node.stallSlackMs);
        return !node.joining && ids.every((x) => x === y || (this.fleet.node(x).member(y)?.heartbeatIntervalMs ?? Infinity) <= asks);
      }),
    );
  }

  /** Run until `cond`, failing (with the replay line) if it takes longer than `maxMs` of virtual time. */
  within(maxMs: number, what: string, cond: () => boolean): number {
    return this.fleet.runUntil(cond, { maxMs, what, checkEveryMs: 10 });
  }
}

export const LOSSES = [0, 0.1, 0.3] as const;
export const SIZES = [16, 64, 128] as const;
