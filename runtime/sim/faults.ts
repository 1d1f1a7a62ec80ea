// Faults a fleet of devices meets in the field, as simulator options: each is a plain spec that a
// test passes to `Fleet.fault` and `bench:sim` parses from `--fault`. A fault holds a window of
// virtual time; link faults are judged per datagram when it is sent, so nothing has to be
// scheduled to switch them on and off, and a run with the same seed and faults replays exactly.
// All randomness (lossy links, which nodes a random partition picks) comes from forks of the
// fleet's seeded stream, one per fault, so adding a fault does not shift any other random choice.

import type { Address } from '../core/messages.js';
import type { Prng } from './prng.js';

/** Fields every fault takes: when it starts (ms after it is added) and how long it lasts (default: for good). */
interface Window {
  readonly atMs?: number;
  readonly forMs?: number;
}

export type PartitionMode = 'halves' | 'isolate' | 'bridge';
export type LossDirection = 'both' | 'in' | 'out';

export type FaultSpec =
  /** Datagrams to `node` (only those from `peer`, if given) are held while the fault lasts, then all arrive at its end. */
  | (Window & { readonly kind: 'clog'; readonly node: string; readonly peer?: string })
  /** Everything `from` sends to `to`, unicast or group, is lost; `to` -> `from` is untouched. */
  | (Window & { readonly kind: 'one-way'; readonly from: string; readonly to: string })
  /** `node` does not hear the group; the group hears it, and unicast works both ways. */
  | (Window & { readonly kind: 'group-deaf'; readonly node: string })
  /** Nobody hears `node` on the group; it hears the group, and unicast works both ways. */
  | (Window & { readonly kind: 'group-mute'; readonly node: string })
  /** `node` (or only its link with `peer`) is cut for `downMs`, then works for `upMs`, over and over. */
  | (Window & { readonly kind: 'flap'; readonly node: string; readonly peer?: string; readonly upMs: number; readonly downMs: number })
  /** A partition whose sides are drawn at random: two halves, one node alone, or two halves that only one node connects. */
  | (Window & { readonly kind: 'partition'; readonly mode: PartitionMode })
  /** `node` loses a fraction `p` of its datagrams (received, sent or both), on top of the network's loss. */
  | (Window & { readonly kind: 'loss'; readonly node: string; readonly p: number; readonly dir?: LossDirection })
  /** From `atMs`, `node` sends from a new address and its old one receives nothing. */
  | { readonly kind: 'readdress'; readonly node: string; readonly atMs?: number; readonly addr?: Address }
  /** From `atMs`, `node`'s wall clock reads `stepMs` off (NTP syncing a Pi without an RTC). */
  | { readonly kind: 'clock-step'; readonly node: string; readonly atMs?: number; readonly stepMs: number }
  /** `node` runs nothing for `forMs` (SIGSTOP, a CPU-starved loop, an SD card stall): its timers and reads wait, then come in a burst. */
  | { readonly kind: 'stall'; readonly node: string; readonly atMs?: number; readonly forMs: number };

export type FaultKind = FaultSpec['kind'];

/** A fault as the fleet holds it: the spec, its window in absolute virtual time, and its random choices. */
export interface ActiveFault {
  readonly spec: FaultSpec;
  readonly start: number;
  /** Exclusive; Infinity for a fault that lasts. */
  readonly end: number;
  /** Node ids the fault impairs: their deaths, and their verdicts on others, are not false positives. */
  readonly touches: ReadonlySet<string> | 'all';
  /** For partitions: the side of each node (0 is the bridge, which reaches both sides). */
  readonly sides?: ReadonlyMap<string, number>;
  readonly rng: Prng;
}

/** Resolves a datagram's address to the node that owns it (or owned it before an address change). */
export type IdOf = (addr: Address) => string | undefined;

/** What the network asks of the faults for every datagram it carries. */
export interface LinkFaults {
  /** True when a fault loses this datagram (`group`: it was sent to the multicast group). */
  drops(now: number, from: Address, to: Address, group: boolean): boolean;
  /** The earliest time the datagram may arrive: `now` unless a clogged link holds it. */
  holdUntil(now: number, from: Address, to: Address): number;
}

export class FaultSchedule implements LinkFaults {
  readonly #faults: ActiveFault[] = [];
  #links: ActiveFault[] = [];

  constructor(
    private readonly idOf: IdOf,
    private readonly rng: Prng,
  ) {}

  get all(): readonly ActiveFault[] {
    return this.#faults;
  }

  /** Register `spec` starting `spec.atMs` after `now`; `ids` are the fleet's nodes (random partitions pick among them). */
  add(now: number, spec: FaultSpec, ids: readonly string[]): ActiveFault {
    checkSpec(spec);
    const start = now + (spec.atMs ?? 0);
    const forMs = 'forMs' in spec ? spec.forMs : undefined;
    const end = forMs === undefined ? Infinity : start + forMs;
    const rng = this.rng.fork(`fault/${this.#faults.length}/${spec.kind}`);
    let touches: ReadonlySet<string> | 'all';
    let sides: Map<string, number> | undefined;
    switch (spec.kind) {
      case 'one-way':
        touches = new Set([spec.from, spec.to]);
        break;
      case 'clog':
      case 'flap':
        touches = new Set(spec.peer === undefined ? [spec.node] : [spec.node, spec.peer]);
        break;
      case 'partition': {
        sides = drawSides(spec.mode, ids, rng);
        // Isolating one node leaves everyone else connected to each other.
        touches = spec.mode === 'isolate' ? new Set([...sides].filter(([, s]) => s === 2).map(([id]) => id)) : 'all';
        break;
      }
      case 'clock-step':
        // The protocol runs on monotonic time: a wall-clock step excuses nothing.
        touches = new Set();
        break;
      default:
        touches = new Set([spec.node]);
    }
    const f: ActiveFault = { spec, start, end, touches, ...(sides && { sides }), rng };
    this.#faults.push(f);
    if (isLinkFault(spec)) this.#links.push(f);
    return f;
  }

  /** True when some fault that has started impairs `id`. */
  touches(id: string, now: number): boolean {
    return this.#faults.some((f) => f.start <= now && (f.touches === 'all' || f.touches.has(id)));
  }

  /** True when some fault has started by `now` (a run with none must have no deaths of running nodes). */
  anyStarted(now: number): boolean {
    return this.#faults.some((f) => f.start <= now);
  }

  /** The end of a stall of `id` in progress at `now`, or undefined. */
  stalledUntil(id: string, now: number): number | undefined {
    let until: number | undefined;
    for (const f of this.#faults) {
      if (f.spec.kind === 'stall' && f.spec.node === id && f.start <= now && now < f.end) until = Math.max(until ?? 0, f.end);
    }
    return until;
  }

  /** How far `id`'s wall clock reads from the true time at `now`: the sum of its steps so far. */
  wallOffset(id: string, now: number): number {
    let off = 0;
    for (const f of this.#faults) if (f.spec.kind === 'clock-step' && f.spec.node === id && f.start <= now) off += f.spec.stepMs;
    return off;
  }

  drops(now: number, fromAddr: Address, toAddr: Address, group: boolean): boolean {
    if (this.#links.length === 0) return false;
    const from = this.idOf(fromAddr);
    const to = this.idOf(toAddr);
    if (from === undefined || to === undefined) return false;
    for (const f of this.#links) {
      if (now < f.start || now >= f.end) continue;
      const s = f.spec;
      switch (s.kind) {
        case 'one-way':
          if (s.from === from && s.to === to) return true;
          break;
        case 'group-deaf':
          if (group && s.node === to) return true;
          break;
        case 'group-mute':
          if (group && s.node === from) return true;
          break;
        case 'flap': {
          const involved = s.peer === undefined ? from === s.node || to === s.node : (from === s.node && to === s.peer) || (from === s.peer && to === s.node);
          if (involved && (now - f.start) % (s.downMs + s.upMs) < s.downMs) return true;
          break;
        }
        case 'partition': {
          const a = f.sides!.get(from) ?? 0;
          const b = f.sides!.get(to) ?? 0;
          if (a !== 0 && b !== 0 && a !== b) return true;
          break;
        }
        case 'loss': {
          const dir = s.dir ?? 'both';
          // Each direction draws on its own, so a node at p both ways keeps (1-p)^2 of its round trips.
          if (to === s.node && dir !== 'out' && f.rng.next() < s.p) return true;
          if (from === s.node && dir !== 'in' && f.rng.next() < s.p) return true;
          break;
        }
        default:
          break;
      }
    }
    return false;
  }

  holdUntil(now: number, fromAddr: Address, toAddr: Address): number {
    let at = now;
    for (const f of this.#links) {
      if (f.spec.kind !== 'clog' || now < f.start || now >= f.end) continue;
      const to = this.idOf(toAddr);
      if (to !== f.spec.node) continue;
      if (f.spec.peer !== undefined && this.idOf(fromAddr) !== f.spec.peer) continue;
      at = Math.max(at, f.end);
    }
    return at;
  }
}

function isLinkFault(s: FaultSpec): boolean {
  return s.kind !== 'readdress' && s.kind !== 'clock-step' && s.kind !== 'stall';
}

/** Side 1 and side 2 of a random partition; side 0 (the bridge) reaches both. */
function drawSides(mode: PartitionMode, ids: readonly string[], rng: Prng): Map<string, number> {
  const order = [...ids];
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const sides = new Map<string, number>();
  if (mode === 'isolate') {
    order.forEach((id, i) => sides.set(id, i === 0 ? 2 : 1));
    return sides;
  }
  const rest = mode === 'bridge' ? order.slice(1) : order;
  if (mode === 'bridge') sides.set(order[0]!, 0);
  const half = Math.floor(rest.length / 2);
  rest.forEach((id, i) => sides.set(id, i < half ? 1 : 2));
  return sides;
}

function checkSpec(s: FaultSpec): void {
  const bad = (what: string): never => {
    throw new Error(`fault ${formatFault(s)}: ${what}`);
  };
  if ('atMs' in s && s.atMs !== undefined && !(s.atMs >= 0)) bad(`at must be >= 0, got ${s.atMs}`);
  if ('forMs' in s && s.forMs !== undefined && !(s.forMs > 0)) bad(`for must be > 0, got ${s.forMs}`);
  if (s.kind === 'stall' && s.forMs === undefined) bad('a stall needs for=');
  if (s.kind === 'flap' && !(s.upMs > 0 && s.downMs > 0)) bad(`up and down must be > 0, got up=${s.upMs} down=${s.downMs}`);
  if (s.kind === 'loss' && !(s.p >= 0 && s.p <= 1)) bad(`p must be a probability in [0, 1], got ${s.p}`);
  if (s.kind === 'one-way' && s.from === s.to) bad('from and to are the same node');
  if (s.kind === 'clock-step' && !Number.isFinite(s.stepMs)) bad(`step must be a number of ms, got ${s.stepMs}`);
}

// ---------------------------------------------------------------- text form (bench:sim --fault)

const KEYS: Record<FaultKind, readonly string[]> = {
  clog: ['node', 'peer', 'at', 'for'],
  'one-way': ['from', 'to', 'at', 'for'],
  'group-deaf': ['node', 'at', 'for'],
  'group-mute': ['node', 'at', 'for'],
  flap: ['node', 'peer', 'up', 'down', 'at', 'for'],
  partition: ['mode', 'at', 'for'],
  loss: ['node', 'p', 'dir', 'at', 'for'],
  readdress: ['node', 'addr', 'at'],
  'clock-step': ['node', 'step', 'at'],
  stall: ['node', 'at', 'for'],
};

const REQUIRED: Record<FaultKind, readonly string[]> = {
  clog: ['node', 'for'],
  'one-way': ['from', 'to'],
  'group-deaf': ['node'],
  'group-mute': ['node'],
  flap: ['node', 'up', 'down'],
  partition: ['mode'],
  loss: ['node', 'p'],
  readdress: ['node'],
  'clock-step': ['node', 'step'],
  stall: ['node', 'for'],
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `4000`, `4000ms`, `4s`, `2m`, `-3d`, in ms. */
export function parseDuration(text: string, what: string): number {
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new Error(`${what}: expected a duration such as 4000, 4s or 2m, got "${text}"`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/**
 * Parse the text form `kind:key=value,key=value`, for example `flap:node=n005,up=20s,down=20s`
 * or `partition:mode=bridge,at=10s,for=30s`. Errors name the fault text and the key at fault.
 */
export function parseFault(text: string): FaultSpec {
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)) as FaultKind;
  if (!(kind in KEYS)) throw new Error(`fault "${text}": unknown kind "${kind}" (one of ${Object.keys(KEYS).join(', ')})`);
  const kv = new Map<string, string>();
  for (const part of colon < 0 ? [] : text.slice(colon + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`fault "${text}": expected key=value, got "${part}"`);
    const key = part.slice(0, eq);
    if (!KEYS[kind].includes(key)) throw new Error(`fault "${text}": ${kind} takes ${KEYS[kind].join(', ')}, not "${key}"`);
    kv.set(key, part.slice(eq + 1));
  }
  for (const key of REQUIRED[kind]) if (!kv.has(key)) throw new Error(`fault "${text}": ${kind} needs ${key}=`);
  const str = (k: string): string => kv.get(k)!;
  const dur = (k: string): number => parseDuration(str(k), `fault "${text}" ${k}`);
  const win = { ...(kv.has('at') && { atMs: dur('at') }), ...(kv.has('for') && { forMs: dur('for') }) };
  const peer = kv.has('peer') ? { peer: str('peer') } : {};
  let spec: FaultSpec;
  switch (kind) {
    case 'clog': spec = { kind, node: str('node'), ...peer, ...win }; break;
    case 'one-way': spec = { kind, from: str('from'), to: str('to'), ...win }; break;
    case 'group-deaf':
    case 'group-mute': spec = { kind, node: str('node'), ...win }; break;
    case 'flap': spec = { kind, node: str('node'), ...peer, upMs: dur('up'), downMs: dur('down'), ...win }; break;
    case 'partition': {
      const mode = str('mode');
      if (mode !== 'halves' && mode !== 'isolate' && mode !== 'bridge') throw new Error(`fault "${text}": mode must be halves, isolate or bridge, got "${mode}"`);
      spec = { kind, mode, ...win };
      break;
    }
    case 'loss': {
      const p = Number(str('p'));
      const dir = kv.get('dir') ?? 'both';
      if (dir !== 'both' && dir !== 'in' && dir !== 'out') throw new Error(`fault "${text}": dir must be both, in or out, got "${dir}"`);
      spec = { kind, node: str('node'), p, dir, ...win };
      break;
    }
    case 'readdress': spec = { kind, node: str('node'), ...(kv.has('addr') && { addr: str('addr') }), ...(kv.has('at') && { atMs: dur('at') }) }; break;
    case 'clock-step': spec = { kind, node: str('node'), stepMs: dur('step'), ...(kv.has('at') && { atMs: dur('at') }) }; break;
    case 'stall': spec = { kind, node: str('node'), forMs: dur('for'), ...(kv.has('at') && { atMs: dur('at') }) }; break;
  }
  checkSpec(spec);
  return spec;
}

/** The text form of a spec (times in ms), which `parseFault` reads back to the same spec. */
export function formatFault(s: FaultSpec): string {
  const parts: string[] = [];
  const put = (k: string, v: string | number | undefined): void => {
    if (v !== undefined) parts.push(`${k}=${v}`);
  };
  switch (s.kind) {
    case 'one-way': put('from', s.from); put('to', s.to); break;
    case 'partition': put('mode', s.mode); break;
    default: put('node', s.node);
  }
  if (s.kind === 'clog' || s.kind === 'flap') put('peer', s.peer);
  if (s.kind === 'flap') { put('up', s.upMs); put('down', s.downMs); }
  if (s.kind === 'loss') { put('p', s.p); put('dir', s.dir); }
  if (s.kind === 'readdress') put('addr', s.addr);
  if (s.kind === 'clock-step') put('step', s.stepMs);
  put('at', s.atMs);
  if ('forMs' in s) put('for', s.forMs);
  return `${s.kind}:${parts.join(',')}`;
}
