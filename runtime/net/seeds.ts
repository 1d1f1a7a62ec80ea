// The seeds a node contacts while it knows nobody: addresses as configured, and host names
// (`.local` names included) looked up with the system resolver, at start and again while the
// node runs, since a Pi's address changes with DHCP. It also remembers when each seed was last
// heard from, so a node that will not join can say which seed never answers.

import { lookup as dnsLookup } from 'node:dns/promises';
import { formatAddress, parseSeed, type Family, type Seed } from './address.js';

/** node:dns lookup with { all: true }: getaddrinfo, so /etc/hosts and mDNS (nss-mdns) as the system has them. */
export type Lookup = (name: string) => Promise<ReadonlyArray<{ readonly address: string; readonly family: number }>>;

export interface SeedsOptions {
  /** network.seeds as configured. */
  readonly seeds: readonly string[];
  /** The port of a seed that names none. */
  readonly defaultPort: number | undefined;
  readonly families: readonly Family[];
  readonly lookup?: Lookup;
  /** Monotonic ms. */
  readonly clock: () => number;
  /** Whether the node knows nobody: names are then looked up more often. */
  readonly alone: () => boolean;
  /** The seed addresses changed (a name resolved, or resolved to something else). */
  readonly onChange: (addrs: readonly string[]) => void;
  readonly onNotice?: (level: 'info' | 'warn', event: string, fields: Record<string, string | number | undefined>) => void;
  /** How often names are looked up again; default 60 s, and ALONE_REFRESH_MS while alone. */
  readonly refreshMs?: number;
  readonly aloneRefreshMs?: number;
  /** Log `no-peers` with every seed's state once alone this long, then at most every aloneReportEveryMs. */
  readonly aloneReportAfterMs?: number;
  readonly aloneReportEveryMs?: number;
}

/** Names are looked up again this often. */
export const REFRESH_MS = 60_000;
/** ... and this often while the node knows nobody, since a seed that answers is all it needs. */
export const ALONE_REFRESH_MS = 10_000;
/** A node alone this long logs its seeds and what it heard from them... */
export const ALONE_REPORT_AFTER_MS = 30_000;
/** ... and again this often while it stays alone. */
export const ALONE_REPORT_EVERY_MS = 300_000;

export interface SeedView {
  /** As configured. */
  readonly seed: string;
  /** What it stands for now: itself for an address, the lookup's result for a name. */
  readonly addrs: readonly string[];
  /** Since a datagram last came from one of its addresses; null: never. */
  readonly lastHeardMsAgo: number | null;
  /** Why a name has no address (the lookup's error), else null. */
  readonly error: string | null;
}

interface Entry {
  readonly text: string;
  readonly seed: Seed;
  addrs: string[];
  error: string | null;
  lastHeard: number | undefined;
}

export class Seeds {
  readonly #opts: SeedsOptions;
  readonly #entries: Entry[];
  readonly #lookup: Lookup;
  /** address -> the entries it stands for, to note what was heard from whom. */
  #byAddr = new Map<string, Entry[]>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #aloneSince: number | undefined;
  #aloneReported = -Infinity;

  constructor(opts: SeedsOptions) {
    this.#opts = opts;
    this.#lookup = opts.lookup ?? ((name) => dnsLookup(name, { all: true }));
    this.#entries = opts.seeds.map((text, i) => {
      const seed = parseSeed(text, `network.seeds[${i}]`, opts.defaultPort);
      return { text, seed, addrs: seed.kind === 'address' ? [formatAddress(seed.endpoint.host, seed.endpoint.port)] : [], error: null, lastHeard: undefined };
    });
    this.#index();
  }

  /** The addresses known now: every address seed, and the names resolved so far. */
  get addrs(): string[] {
    return [...new Set(this.#entries.flatMap((e) => e.addrs))];
  }

  get hasNames(): boolean {
    return this.#entries.some((e) => e.seed.kind === 'name');
  }

  /** Look the names up now, then again every refresh interval until close(); report while alone. */
  start(): void {
    if (this.#entries.length === 0) return;
    this.#aloneSince = this.#opts.clock();
    void this.resolve().finally(() => this.#schedule());
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** Look every name up once; calls onChange when the addresses changed. */
  async resolve(): Promise<void> {
    const before = this.addrs.join(',');
    await Promise.all(this.#entries.filter((e) => e.seed.kind === 'name').map((e) => this.#resolveOne(e)));
    if (this.#closed) return;
    this.#index();
    const after = this.addrs;
    if (after.join(',') !== before) this.#opts.onChange(after);
  }

  /** A datagram came from `from`: if it is a seed's address, that seed answers. */
  heard(from: string): void {
    const entries = this.#byAddr.get(from);
    if (!entries) return;
    const now = this.#opts.clock();
    for (const e of entries) e.lastHeard = now;
  }

  view(): SeedView[] {
    const now = this.#opts.clock();
    return this.#entries.map((e) => ({ seed: e.text, addrs: [...e.addrs], lastHeardMsAgo: e.lastHeard === undefined ? null : now - e.lastHeard, error: e.error }));
  }

  async #resolveOne(e: Entry): Promise<void> {
    if (e.seed.kind !== 'name') return;
    const { name, port } = e.seed;
    const wanted = new Set<number>(this.#opts.families.map((f) => (f === 'ipv4' ? 4 : 6)));
    try {
      const found = (await this.#lookup(name)).filter((a) => wanted.has(a.family));
      if (found.length === 0) throw Object.assign(new Error(`no ${this.#opts.families.join(' or ')} address`), { code: 'ENODATA' });
      const addrs = [...new Set(found.map((a) => formatAddress(a.address, port)))];
      if (addrs.join(',') !== e.addrs.join(',') || e.error !== null) this.#opts.onNotice?.('info', 'seed-resolved', { seed: e.text, addrs: addrs.join(',') });
      e.addrs = addrs;
      e.error = null;
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      // Once per change, not once per lookup: a name that stays unresolvable is one log line.
      if (why !== e.error) this.#opts.onNotice?.('warn', 'seed-unresolved', { seed: e.text, error: why, kept: e.addrs.join(',') || undefined });
      e.error = why;
      // The last addresses it had stay: a resolver that is down for a minute should not cut a node off.
    }
  }

  #index(): void {
    const m = new Map<string, Entry[]>();
    for (const e of this.#entries) for (const a of e.addrs) m.set(a, [...(m.get(a) ?? []), e]);
    this.#byAddr = m;
  }

  #schedule(): void {
    if (this.#closed) return;
    const ms = this.#opts.alone() ? (this.#opts.aloneRefreshMs ?? ALONE_REFRESH_MS) : (this.#opts.refreshMs ?? REFRESH_MS);
    this.#timer = setTimeout(() => {
      void this.resolve().finally(() => {
        this.#reportAlone();
        this.#schedule();
      });
    }, ms);
    this.#timer.unref();
  }

  /** A node that stays alone says, in the log, which seeds it tried and what came back. */
  #reportAlone(): void {
    if (this.#closed) return;
    const now = this.#opts.clock();
    if (!this.#opts.alone()) {
      this.#aloneSince = undefined;
      return;
    }
    this.#aloneSince ??= now;
    if (now - this.#aloneSince < (this.#opts.aloneReportAfterMs ?? ALONE_REPORT_AFTER_MS)) return;
    if (now - this.#aloneReported < (this.#opts.aloneReportEveryMs ?? ALONE_REPORT_EVERY_MS)) return;
    this.#aloneReported = now;
    const seeds = this.view().map((v) => {
      const addrs = v.addrs.length === 1 && v.addrs[0] === v.seed ? '' : ` (${v.addrs.join(' ') || 'no address'})`;
      const state = v.lastHeardMsAgo !== null ? `heard ${Math.round(v.lastHeardMsAgo / 1000)}s ago` : v.error !== null && v.addrs.length === 0 ? `unresolved: ${v.error}` : 'never heard';
      return `${v.seed}${addrs} ${state}`;
    });
    this.#opts.onNotice?.('warn', 'no-peers', { alone_s: Math.round((now - this.#aloneSince) / 1000), seeds: seeds.join('; ') });
  }
}
