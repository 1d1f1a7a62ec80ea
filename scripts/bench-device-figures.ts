// What bench:device computes, kept apart from the processes it runs so it can be tested: its
// options, the sequence of shared/bench/SCENARIOS.md as one device sees it, what the peers saw
// of that device, and the device's CPU and memory read from /proc.

import { numberArg, parseBenchArgs, type BenchArgs } from './bench-args.js';

export interface DeviceBenchArgs extends BenchArgs {
  /** Fraction of one core the device may use (a cgroup CPU cap), or undefined for none. */
  cpuCap: number | undefined;
  /**
   * Seconds the workload runs between the join and the steady window. V8 compiles the hot
   * paths over the first minutes of a process; a device runs for months. 0: the window starts
   * at the join.
   */
  warmup: number;
  /** Set in the peers' process: it runs the peers and takes orders over IPC. */
  peers: boolean;
}

export const DEVICE_USAGE = 'usage: npm run bench:device -- --nodes N --loss P --workload W --steady S [--cpu-cap F] [--warmup S] [--seed S] [--deadline S]';

export function parseDeviceArgs(argv: readonly string[]): DeviceBenchArgs {
  let cpuCap: number | undefined;
  let warmup = 0;
  let peers = false;
  const a = parseBenchArgs(argv, DEVICE_USAGE, (flag, value) => {
    if (flag === '--cpu-cap') cpuCap = numberArg(flag, value());
    else if (flag === '--warmup') warmup = numberArg(flag, value());
    else if (flag === '--peers') peers = true;
    else return false;
    return true;
  });
  if (cpuCap !== undefined && !(cpuCap > 0 && cpuCap <= 1)) throw new Error(`--cpu-cap: expected a fraction of one core in (0, 1], got ${cpuCap}`);
  if (!(warmup >= 0)) throw new Error(`--warmup: expected seconds >= 0, got ${warmup}`);
  if (a.nodes < 3) throw new Error(`--nodes: expected at least 3 (the device, a peer that changes a value, a peer that is killed), got ${a.nodes}`);
  return { ...a, cpuCap, warmup, peers };
}

/** The device's id and its peers' ids (n001 .. n(N-1)). */
export const DEVICE_ID = 'device';
export const peerId = (i: number): string => `n${String(i).padStart(3, '0')}`;
export const peerIds = (nodes: number): string[] => Array.from({ length: nodes - 1 }, (_, i) => peerId(i + 1));

/**
 * The sequence seen from the device. Fed the member events it logs (times in ms from the
 * start), the update it received, and what the peers reported about the device itself.
 */
export class DeviceFigures {
  readonly #peers: ReadonlySet<string>;
  readonly #seen = new Set<string>();
  #joinAt = -1;
  #victim: string | undefined;
  #killAt = 0;
  #detectAt = -1;
  #updateAt = 0;
  #updateSeenAt = -1;
  #statusChanges = 0;
  readonly falsePositiveLog: string[] = [];
  /** Peers that declared the device dead, and how often any peer suspected it. */
  readonly #deviceDeclaredDeadBy = new Set<string>();
  #deviceSuspected = 0;
  readonly #deviceDeadAt: number[] = [];
  #peersSeeingDevice = new Set<string>();
  #peersJoinAt = -1;

  constructor(peers: readonly string[]) {
    this.#peers = new Set(peers);
  }

  /** The device logged `member` as alive for the first time (member-joined or member-restarted). */
  joined(t: number, member: string): void {
    if (!this.#peers.has(member) || this.#seen.has(member)) return;
    this.#seen.add(member);
    if (this.#joinAt < 0 && this.#seen.size === this.#peers.size) this.#joinAt = t;
  }

  /** The device logged a status change of `member`, which changed its verdict unless a suspicion began or ended. */
  status(t: number, member: string, status: string, verdictChanged = true): void {
    if (member === this.#victim) {
      if (status === 'dead' && this.#detectAt < 0) this.#detectAt = t;
      return;
    }
    // Flaps are verdict changes: a suspicion begun or refuted leaves the verdict as it was.
    if (!verdictChanged) return;
    this.#statusChanges++;
    if (status === 'dead') this.falsePositiveLog.push(`t=${Math.round(t)} the device declared ${member} dead`);
  }

  killed(t: number, member: string): void {
    this.#victim = member;
    this.#killAt = t;
  }

  updated(t: number): void {
    this.#updateAt = t;
  }

  updateSeen(t: number): void {
    if (this.#updateSeenAt < 0) this.#updateSeenAt = t;
  }

  /** A peer saw the device alive (its first sight counts toward the peers' join). */
  peerSawDevice(t: number, peer: string): void {
    if (this.#peersSeeingDevice.has(peer)) return;
    this.#peersSeeingDevice.add(peer);
    if (this.#peersJoinAt < 0 && this.#peersSeeingDevice.size === this.#peers.size) this.#peersJoinAt = t;
  }

  /** At `t`, a peer changed the device's status: a death or suspicion of a device that never stopped. */
  peerJudgedDevice(t: number, peer: string, status: string): void {
    if (status === 'dead') {
      this.#deviceDeclaredDeadBy.add(peer);
      this.#deviceDeadAt.push(t);
    } else if (status === 'suspect') this.#deviceSuspected++;
  }

  get joinedAt(): number {
    return this.#joinAt;
  }
  get peersJoinedAt(): number {
    return this.#peersJoinAt;
  }
  get seen(): number {
    return this.#seen.size;
  }
  get missing(): string[] {
    return [...this.#peers].filter((p) => !this.#seen.has(p));
  }
  /** ms from the update to the device seeing it, or -1. */
  get updateMs(): number {
    return this.#updateSeenAt < 0 ? -1 : this.#updateSeenAt - this.#updateAt;
  }
  /** ms from the kill to the device declaring the victim dead, or -1. */
  get detectMs(): number {
    return this.#detectAt < 0 ? -1 : this.#detectAt - this.#killAt;
  }
  get falsePositives(): number {
    return this.falsePositiveLog.length;
  }
  /** Verdict changes the device logged of peers that ran throughout, per hour of `durationMs`. */
  flapsPerHour(durationMs: number): number {
    return durationMs > 0 ? this.#statusChanges / (durationMs / 3_600_000) : 0;
  }
  get deviceDeclaredDeadBy(): number {
    return this.#deviceDeclaredDeadBy.size;
  }
  get deviceSuspicions(): number {
    return this.#deviceSuspected;
  }
  /** When peers declared the device dead (ms from the start): the first and the last time, or null. */
  get deviceDeclaredDeadWhen(): { firstMs: number; lastMs: number } | null {
    if (this.#deviceDeadAt.length === 0) return null;
    return { firstMs: Math.min(...this.#deviceDeadAt), lastMs: Math.max(...this.#deviceDeadAt) };
  }
}

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
export const USER_HZ = 100;

/** utime and stime in ms from the text of /proc/PID/stat (the command name may hold spaces and parentheses). */
export function cpuFromStat(text: string): { userMs: number; systemMs: number } {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`/proc stat: no ")" after the command name in ${JSON.stringify(text.slice(0, 80))}`);
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const f = text.slice(close + 2).split(' ');
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc stat: utime/stime unreadable in ${JSON.stringify(text.slice(0, 120))}`);
  return { userMs: (utime * 1000) / USER_HZ, systemMs: (stime * 1000) / USER_HZ };
}

/** utime + stime in ms. */
export function cpuMsFromStat(text: string): number {
  const c = cpuFromStat(text);
  return c.userMs + c.systemMs;
}

/** A "Name:   1234 kB" field of /proc/PID/status, in MB. */
export function mbFromStatus(text: string, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc status: no ${field} line`);
  return Number(m[1]) / 1024;
}

/** CPU ms per second of wall time between two readings. */
export function cpuMsPerS(cpuMs0: number, cpuMs1: number, wallMs: number): number {
  if (!(wallMs > 0)) throw new Error(`cpu rate: the window must be longer than 0 ms, got ${wallMs}`);
  return ((cpuMs1 - cpuMs0) * 1000) / wallMs;
}
