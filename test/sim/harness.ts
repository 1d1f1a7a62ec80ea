// Scenario support: a Fleet plus invariants that are checked on every event, not only at the
// end (TigerBeetle-style). A violation fails the test with the replay line of the run.

import type { CoreEvent } from '../../runtime/core/effects.js';
import type { Profile } from '../../runtime/core/profiles.js';
import { profiles } from '../../runtime/core/profiles.js';
import { Fleet, type FleetOptions } from '../../runtime/sim/fleet.js';

export interface ScenarioOptions extends Partial<FleetOptions> {
  readonly nodes: number;
  readonly seed: number;
  readonly profile?: Profile;
}

export class Scenario {
  readonly fleet: Fleet;
  readonly violations: string[] = [];
  /** Members whose death is expected (crashed, or cut off by a partition the test made). */
  readonly mayDie = new Set<string>();
  readonly #versions = new Map<string, number>();
  readonly #seen = new Set<string>();
  readonly #deadAt = new Map<string, number>();

  constructor(opts: ScenarioOptions) {
    this.fleet = new Fleet({ profile: profiles.lan, ...opts });
    this.fleet.onEvent((now, id, e) => this.#check(now, id, e));
  }

  get now(): number {
    return this.fleet.now;
  }

  #check(now: number, observer: string, e: CoreEvent): void {
    if (e.type === 'member-joined' || e.type === 'member-restarted') this.#seen.add(`${observer}>${e.member.id}`);
    if (e.type === 'member-status' && e.status === 'dead') {
      this.#deadAt.set(`${observer}>${e.member.id}`, now);
      const victimRunning = this.fleet.isRunning(e.member.id) && this.fleet.node(e.member.id).self.gen === e.member.gen;
      if (victimRunning && !this.mayDie.has(e.member.id)) {
        this.violations.push(`t=${now} ${observer} declared live ${e.member.id}@${e.member.gen} dead (sources ${e.sources.join(',')})`);
      }
    }
    if (e.type === 'kv-changed') {
      // Versions an observer holds for one owner's key never go backwards within a generation.
      const k = `${observer}|${e.owner.id}@${e.owner.gen}|${e.key}`;
      const prev = this.#versions.get(k) ?? 0;
      if (e.version < prev) this.violations.push(`t=${now} ${observer} regressed ${k} from v${prev} to v${e.version}`);
      else this.#versions.set(k, e.version);
    }
  }

  /** Everything that must hold at any time; call at the end of every scenario. */
  assertInvariants(): void {
    const net = this.fleet.network;
    if (net.refused > 0) this.violations.push(`${net.refused} datagrams exceeded the budget and were refused`);
    const oversize = this.fleet.runningIds().reduce((n, id) => n + this.fleet.host(id).oversizeRefused, 0);
    if (oversize > 0) this.violations.push(`${oversize} datagrams the cores produced did not fit the budget`);
    if (net.rejected > 0) this.violations.push(`${net.rejected} datagrams from honest nodes were rejected: ${[...net.rejectedReasons]}`);
    if (this.violations.length > 0) {
      throw new Error(`${this.violations.length} invariant violations; replay: ${this.fleet.describe()}\n${this.violations.slice(0, 10).join('\n')}`);
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

  /** Run until `cond`, failing (with the replay line) if it takes longer than `maxMs` of virtual time. */
  within(maxMs: number, what: string, cond: () => boolean): number {
    return this.fleet.runUntil(cond, { maxMs, what, checkEveryMs: 10 });
  }
}

export const LOSSES = [0, 0.1, 0.3] as const;
export const SIZES = [16, 64, 128] as const;
