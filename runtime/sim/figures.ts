// Turns a fleet's event stream into the benchmark figures of shared/bench/SCENARIOS.md. Kept
// apart from the runner so the simulation benchmark and the real-network benchmark compute
// every figure the same way.

import type { CoreEvent } from '../core/effects.js';

export interface Percentiles {
  readonly first: number;
  readonly p50: number;
  readonly all: number;
  readonly seen: number;
}

/** Nearest-rank percentile over sorted durations, the same rounding as the memberlist harness. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return -1;
  const i = Math.floor(p * (sorted.length - 1) + 0.5);
  return sorted[i]!;
}

export class FleetFigures {
  readonly #pairs = new Set<string>();
  #pairCount = 0;
  #joinAt = -1;
  #victim: string | undefined;
  #killAt = 0;
  readonly #detect = new Map<string, number>();
  #falsePositives = 0;
  readonly falsePositiveLog: string[] = [];
  #updKey: string | undefined;
  #updValue: unknown;
  #updOwner: string | undefined;
  #updAt = 0;
  readonly #updSeen = new Map<string, number>();
  /** Verdict changes of members that were not crashed, per observer>member pair. */
  readonly #flaps = new Map<string, number>();
  #flapCount = 0;
  /** Suspicions of members that were not crashed, all observers together. */
  #suspicionCount = 0;
  /** A mass crash: the members killed together, and for each observer those it has seen dead. */
  #crashed: ReadonlySet<string> = new Set();
  #crashAt = 0;
  readonly #crashSeen = new Map<string, Set<string>>();
  readonly #crashAll = new Map<string, number>();

  constructor(private readonly n: number) {}

  /** Feed every event of every node, in time order. */
  observe(now: number, observer: string, e: CoreEvent): void {
    switch (e.type) {
      case 'member-joined':
      case 'member-restarted': {
        const k = `${observer}>${e.member.id}`;
        if (!this.#pairs.has(k)) {
          this.#pairs.add(k);
          this.#pairCount++;
          if (this.#joinAt < 0 && this.#pairCount >= this.n * (this.n - 1)) this.#joinAt = now;
        }
        return;
      }
      case 'member-status':
        if (e.member.id !== this.#victim && !this.#crashed.has(e.member.id)) {
          if (e.status === 'suspect') this.#suspicionCount++;
          if (e.verdict !== e.previousVerdict) {
            const k = `${observer}>${e.member.id}`;
            this.#flaps.set(k, (this.#flaps.get(k) ?? 0) + 1);
            this.#flapCount++;
          }
        }
        if (e.status !== 'dead') return;
        if (this.#crashed.has(e.member.id)) {
          this.#sawCrashed(now, observer, e.member.id);
          return;
        }
        if (e.member.id === this.#victim) {
          if (!this.#detect.has(observer)) this.#detect.set(observer, now - this.#killAt);
        } else {
          this.#falsePositives++;
          this.falsePositiveLog.push(`t=${now} ${observer} declared ${e.member.id}@${e.member.gen} dead (sources ${e.sources.join(',')})`);
        }
        return;
      case 'kv-changed':
        if (e.owner.id === this.#updOwner && e.key === this.#updKey && e.value === this.#updValue && observer !== this.#updOwner) {
          if (!this.#updSeen.has(observer)) this.#updSeen.set(observer, now - this.#updAt);
        }
        return;
      default:
        return;
    }
  }

  /** Deaths of `id` from now on are expected, not false positives. */
  killed(id: string, now: number): void {
    this.#victim = id;
    this.#killAt = now;
  }

  /** Many members die at once: their deaths are expected; each observer's time to see all of them is a figure. */
  crashed(ids: readonly string[], now: number): void {
    this.#crashed = new Set(ids);
    this.#crashAt = now;
  }

  #sawCrashed(now: number, observer: string, id: string): void {
    if (this.#crashed.has(observer)) return;
    let seen = this.#crashSeen.get(observer);
    if (!seen) this.#crashSeen.set(observer, (seen = new Set()));
    seen.add(id);
    if (seen.size === this.#crashed.size && !this.#crashAll.has(observer)) this.#crashAll.set(observer, now - this.#crashAt);
  }

  /** Observers that have seen every member of the mass crash dead. */
  get crashSeenBy(): number {
    return this.#crashAll.size;
  }

  /** Per observer, the time until it had seen every crashed member dead. */
  crash(): Percentiles {
    return summarize([...this.#crashAll.values()]);
  }

  updated(owner: string, key: string, value: unknown, now: number): void {
    this.#updOwner = owner;
    this.#updKey = key;
    this.#updValue = value;
    this.#updAt = now;
  }

  /** Up to `limit` (observer, member) pairs among `ids` that have not met yet, as "observer>member". */
  missingPairs(ids: readonly string[], limit: number): string[] {
    const out: string[] = [];
    for (const a of ids) for (const b of ids) if (a !== b && !this.#pairs.has(`${a}>${b}`) && out.length < limit) out.push(`${a}>${b}`);
    return out;
  }

  get joinConvergedAt(): number {
    return this.#joinAt;
  }
  get pairsSeen(): number {
    return this.#pairCount;
  }
  get falsePositives(): number {
    return this.#falsePositives;
  }
  /** Verdict changes (alive, unreliable, dead, back) of members that were not crashed, all observers together. */
  get flapCount(): number {
    return this.#flapCount;
  }

  /**
   * View stability: verdict changes of live members per observer per hour over `durationMs`.
   * Every one is an alert downstream (a hook, an MQTT availability change);
   * a healthy fleet makes none.
   */
  flapsPerObserverHour(durationMs: number): number {
    if (durationMs <= 0) return 0;
    return this.#flapCount / this.n / (durationMs / 3_600_000);
  }

  /** Suspicions of live members per observer per hour over `durationMs`: the detector's doubts, refuted or not. */
  suspicionsPerObserverHour(durationMs: number): number {
    if (durationMs <= 0) return 0;
    return this.#suspicionCount / this.n / (durationMs / 3_600_000);
  }

  /** The most verdict changes one observer saw of one live member, and which pair that was. */
  worstFlapper(): { readonly pair: string; readonly changes: number } | undefined {
    let worst: { pair: string; changes: number } | undefined;
    for (const [pair, changes] of this.#flaps) if (!worst || changes > worst.changes) worst = { pair, changes };
    return worst;
  }

  get detectedBy(): number {
    return this.#detect.size;
  }
  get updateSeenBy(): number {
    return this.#updSeen.size;
  }

  detection(): Percentiles {
    return summarize([...this.#detect.values()]);
  }
  update(): Percentiles {
    return summarize([...this.#updSeen.values()]);
  }
}

function summarize(ds: number[]): Percentiles {
  ds.sort((a, b) => a - b);
  return { first: percentile(ds, 0), p50: percentile(ds, 0.5), all: percentile(ds, 1), seen: ds.length };
}
