// The protocol's rules, checked on every event of a simulated fleet rather than only at the end
// (TigerBeetle's simulator does the same). The first broken rule stops the run: it throws an
// InvariantViolation whose message is one line with the rule, the node, the virtual time and
// everything needed to replay the run (seed, options, faults).

import type { CoreEvent } from '../core/effects.js';
import type { Address, NodeRef } from '../core/messages.js';
import type { Fleet } from './fleet.js';

export type InvariantRule =
  /** Dead on one source only after the unrefuted suspicion ran to its maximum timeout. */
  | 'two-sources'
  /** A node never holds itself anything but alive. */
  | 'self-alive'
  /** The generation of a member never goes backwards at any observer. */
  | 'generation-monotonic'
  /** The version of an owner's key never goes backwards at any observer (within a generation). */
  | 'version-monotonic'
  /** A running, healthy node that no fault touches is never declared dead by a healthy observer. */
  | 'no-false-death'
  /** No datagram exceeds the budget. */
  | 'budget';

export class InvariantViolation extends Error {
  constructor(
    readonly rule: InvariantRule,
    readonly node: string,
    readonly at: number,
    readonly detail: string,
    readonly replay: string,
  ) {
    super(`invariant ${rule} broken at t=${at}ms by ${node}: ${detail}; replay: ${replay}`);
    this.name = 'InvariantViolation';
  }
}

export interface InvariantOptions {
  /** Members whose death is expected (crashed, or cut off by a partition the test made itself). */
  readonly mayDie?: Set<string>;
  /** The replay line; the fleet's own description (seed, options, faults, time) by default. */
  readonly replay?: () => string;
}

interface SuspectSince {
  readonly gen: number;
  readonly since: number;
}

export class Invariants {
  readonly mayDie: Set<string>;
  /** Every violation, in the order found (the run stops at the first; this keeps it for the test). */
  readonly violations: InvariantViolation[] = [];
  /** observer -> member id -> the generation and time its current suspicion started. */
  readonly #suspect = new Map<string, Map<string, SuspectSince>>();
  /** observer -> member id -> highest generation seen. */
  readonly #gens = new Map<string, Map<string, number>>();
  /** `observer|owner@gen|key` -> highest version seen. */
  readonly #versions = new Map<string, number>();
  readonly #replay: () => string;

  constructor(
    private readonly fleet: Fleet,
    opts: InvariantOptions = {},
  ) {
    this.mayDie = opts.mayDie ?? new Set();
    this.#replay = opts.replay ?? (() => fleet.describe());
    fleet.onEvent((now, id, e) => this.check(now, id, e));
    fleet.network.onRefused = (now: number, from: Address, to: Address) =>
      this.#fail('budget', this.#idOf(from), now, `a datagram to ${to} exceeded the ${fleet.network.opts.budget}-byte budget`);
  }

  /** Check one event of `observer`; throws at the first rule it breaks. */
  check(now: number, observer: string, e: CoreEvent): void {
    switch (e.type) {
      case 'member-joined':
        this.#self(now, observer, e.member, 'alive');
        this.#gen(now, observer, e.member, e.type);
        return;
      case 'member-restarted':
        this.#self(now, observer, e.member, 'alive');
        this.#gen(now, observer, e.member, e.type);
        return;
      case 'member-removed':
        this.#gen(now, observer, e.member, e.type);
        this.#suspect.get(observer)?.delete(e.member.id);
        return;
      case 'member-status':
        this.#self(now, observer, e.member, e.status);
        this.#gen(now, observer, e.member, e.type);
        this.#status(now, observer, e);
        return;
      case 'kv-changed': {
        this.#gen(now, observer, e.owner, e.type);
        const k = `${observer}|${e.owner.id}@${e.owner.gen}|${e.key}`;
        const prev = this.#versions.get(k) ?? 0;
        if (e.version < prev) this.#fail('version-monotonic', observer, now, `${e.owner.id}@${e.owner.gen} key ${e.key} went from v${prev} to v${e.version}`);
        this.#versions.set(k, e.version);
        return;
      }
      case 'suspected-self':
        return;
    }
  }

  /** Rules judged on counters rather than events; call at the end of a run. */
  checkTotals(): void {
    const net = this.fleet.network;
    if (net.refused > 0) this.#fail('budget', 'network', this.fleet.now, `${net.refused} datagrams exceeded the budget and were refused`);
  }

  #status(now: number, observer: string, e: Extract<CoreEvent, { type: 'member-status' }>): void {
    let table = this.#suspect.get(observer);
    if (!table) this.#suspect.set(observer, (table = new Map()));
    const victim = e.member;
    if (e.status === 'suspect') {
      table.set(victim.id, { gen: victim.gen, since: now });
      return;
    }
    const started = table.get(victim.id);
    table.delete(victim.id);
    if (e.status !== 'dead') return;

    if (e.sources.length < 2) {
      const maxMs = this.fleet.opts.profile.suspicionMaxMs;
      const ran = started && started.gen === victim.gen ? now - started.since : undefined;
      if (ran === undefined || ran < maxMs) {
        this.#fail(
          'two-sources',
          observer,
          now,
          `declared ${victim.id}@${victim.gen} dead on ${e.sources.length} source(s) [${e.sources.join(',')}] after ` +
            `${ran === undefined ? 'no' : `${ran} ms of`} suspicion; one source needs the full ${maxMs} ms unrefuted`,
        );
      }
    }

    const f = this.fleet;
    const victimLive = f.isRunning(victim.id) && f.node(victim.id).self.gen === victim.gen;
    if (victimLive && !this.mayDie.has(victim.id) && !f.faults.touches(victim.id, now) && !f.faults.touches(observer, now)) {
      this.#fail('no-false-death', observer, now, `declared ${victim.id}@${victim.gen}, running and untouched by any fault, dead (sources ${e.sources.join(',')})`);
    }
  }

  #self(now: number, observer: string, member: NodeRef, status: string): void {
    if (member.id === observer && status !== 'alive') this.#fail('self-alive', observer, now, `holds itself ${status}`);
  }

  #gen(now: number, observer: string, member: NodeRef, what: string): void {
    let table = this.#gens.get(observer);
    if (!table) this.#gens.set(observer, (table = new Map()));
    const prev = table.get(member.id) ?? 0;
    if (member.gen < prev) this.#fail('generation-monotonic', observer, now, `${what} of ${member.id}@${member.gen} after it had seen generation ${prev}`);
    else table.set(member.id, member.gen);
  }

  #idOf(addr: Address): string {
    return this.fleet.ids.find((id) => this.fleet.addressOf(id) === addr) ?? addr;
  }

  #fail(rule: InvariantRule, node: string, at: number, detail: string): never {
    const v = new InvariantViolation(rule, node, at, detail, this.#replay());
    this.violations.push(v);
    throw v;
  }
}
