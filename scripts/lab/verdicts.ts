// Verdicts on real processes: one lab fleet of 8 `murmur start` processes (security on), one
// device per fault, each scenario measured as an operator would see it (the nodes' own
// member-status log lines and local APIs). The end-to-end test runs them with short fault
// windows and asserts the bounds; `npm run lab:verdicts` runs them at full length and prints
// one JSON line of figures per scenario.
//   npm run lab:verdicts -- [--short]

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Lab, type LabOptions } from './lab.js';

/** Which device carries which fault: one each, so a fleet serves every scenario in turn. */
export const ROLE = { clock: 0, flaky: 1, flap: 2, stall: 3, readdress: 4, move: 5, unheard: 6, deaf: 7 } as const;
export const FLEET_SIZE = 8;

/** Debian's libfaketime (package faketime), under the machine's multiarch directory; the clock scenario needs it. */
export const LIBFAKETIME: string | undefined = (() => {
  try {
    return readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/faketime/libfaketimeMT.so.1`).find((p) => existsSync(p));
  } catch {
    return undefined;
  }
})();

export interface Timings {
  /** How long the flaky device loses 80% both ways. */
  readonly lossMs: number;
  readonly flapDownMs: number;
  readonly flapUpMs: number;
  readonly flapCycles: number;
  /** How long a device is frozen by SIGSTOP. */
  readonly stallMs: number;
  /** How long the multicast group reaches two devices one way only. */
  readonly oneWayMs: number;
  /** How long the fleet is watched after each clock step. */
  readonly clockSettleMs: number;
  /** The wall-clock step, in days. */
  readonly clockStepDays: number;
}

/** The goal's lengths. */
export const FULL: Timings = { lossMs: 60_000, flapDownMs: 20_000, flapUpMs: 20_000, flapCycles: 2, stallMs: 4000, oneWayMs: 60_000, clockSettleMs: 20_000, clockStepDays: 40 };
/** The end-to-end test's: the same faults in shorter windows. */
export const SHORT: Timings = { lossMs: 20_000, flapDownMs: 5000, flapUpMs: 5000, flapCycles: 2, stallMs: 4000, oneWayMs: 10_000, clockSettleMs: 6000, clockStepDays: 40 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export const clockFile = (lab: Lab): string => join(lab.dir, 'clock-offset');

/** The fleet: IPv4, fleet key on, the clock device under libfaketime when it is installed. */
export function fleetOptions(): LabOptions {
  return {
    nodes: FLEET_SIZE,
    args: ['--families', 'ipv4'],
    logLevel: 'info',
    nodeEnv: (i, lab) => {
      if (i !== ROLE.clock || LIBFAKETIME === undefined) return {};
      // The offset is read again at most once a second; monotonic time is left alone, as a
      // real wall-clock step leaves it.
      if (!existsSync(clockFile(lab))) writeFileSync(clockFile(lab), '+0\n');
      return { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile(lab), FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    },
  };
}

interface MemberRow {
  readonly id: string;
  readonly status: string;
  readonly gen: number;
  readonly addr: string;
}

async function rows(lab: Lab, i: number): Promise<MemberRow[]> {
  const r = await lab.api(i, 'GET', '/v1/members').catch(() => undefined);
  return r?.status === 200 && Array.isArray(r.body) ? (r.body as MemberRow[]) : [];
}

const others = (lab: Lab, j: number): number[] => lab.nodes.map((_, i) => i).filter((i) => i !== j);

/** Every other node lists device j with a row matching `pred`. */
async function everywhere(lab: Lab, j: number, pred: (m: MemberRow) => boolean): Promise<boolean> {
  for (const i of others(lab, j)) {
    const m = (await rows(lab, i)).find((r) => r.id === lab.name(j));
    if (!m || !pred(m)) return false;
  }
  return true;
}

const aliveEverywhere = (lab: Lab, j: number): Promise<boolean> => everywhere(lab, j, (m) => m.status === 'alive');

/** Device j's status as each other node lists it. */
const statusesOf = (lab: Lab, j: number): Promise<string[]> =>
  Promise.all(others(lab, j).map(async (i) => (await rows(lab, i)).find((m) => m.id === lab.name(j))?.status ?? 'unknown'));

/** Milliseconds until `cond` holds (polled every 50 ms), or null when it has not within `ms`. */
async function timeUntil(lab: Lab, ms: number, cond: () => Promise<boolean>): Promise<number | null> {
  try {
    return Math.round(await lab.waitFor('condition', ms, cond));
  } catch {
    return null;
  }
}

export interface StatusChange {
  readonly observer: string;
  readonly member: string;
  readonly status: string;
  /** The verdicts after and before the line: the status, or for a suspicion the verdict held before it. */
  readonly verdict: string;
  readonly previousVerdict: string;
  readonly sources: readonly string[];
  readonly t: number;
}

/** member-status lines logged between `from` and `to` (lab milliseconds). */
export function statusChanges(lab: Lab, from: number, to = Infinity): StatusChange[] {
  const out: StatusChange[] = [];
  lab.nodes.forEach((n, i) => {
    for (const e of lab.events(i, { event: 'member-status' })) {
      if (e.t < from || e.t > to) continue;
      const f = e.fields;
      out.push({ observer: n.name, member: f['member']!, status: f['status']!, verdict: f['verdict'] ?? f['status']!, previousVerdict: f['previous_verdict'] ?? f['previous']!, sources: f['sources'] ? f['sources'].split(',') : [], t: Math.round(e.t) });
    }
  });
  return out;
}

/** Verdict changes between `from` and `to`, as their verdicts: a suspicion begun or ended changes none. */
export function verdictChanges(lab: Lab, from: number, to = Infinity): StatusChange[] {
  return statusChanges(lab, from, to)
    .filter((c) => c.verdict !== c.previousVerdict)
    .map((c) => ({ ...c, status: c.verdict }));
}

/** The most status changes of `member` any one observer logged in the window. */
function maxPerObserver(changes: readonly StatusChange[], member: string): number {
  return busiest(changes, member).length;
}

/** The changes of `member` at the observer that logged the most of them. */
function busiest(changes: readonly StatusChange[], member: string): StatusChange[] {
  const per = new Map<string, StatusChange[]>();
  for (const c of changes) if (c.member === member) per.set(c.observer, [...(per.get(c.observer) ?? []), c]);
  return [...per.values()].sort((a, b) => b.length - a.length)[0] ?? [];
}

/** The most changes of `member` one observer logged within any 60 s. */
function busiestMinute(changes: readonly StatusChange[], member: string): number {
  const per = new Map<string, number[]>();
  for (const c of changes) if (c.member === member) per.set(c.observer, [...(per.get(c.observer) ?? []), c.t]);
  let most = 0;
  for (const ts of per.values()) {
    for (let i = 0, j = 0; j < ts.length; j++) {
      while (ts[j]! - ts[i]! >= 60_000) i++;
      most = Math.max(most, j - i + 1);
    }
  }
  return most;
}

/** "n0: suspect@1200 dead@2900": what one observer logged, for reading a figure. */
const sequence = (cs: readonly StatusChange[]): string => (cs.length === 0 ? '' : `${cs[0]!.observer}: ${cs.map((c) => `${c.status}@${c.t}`).join(' ')}`);

const deathsOf = (changes: readonly StatusChange[], pred: (c: StatusChange) => boolean): string[] =>
  changes.filter((c) => c.status === 'dead' && pred(c)).map((c) => `${c.observer} declared ${c.member} dead at ${c.t} ms`);

/** Wait until everyone but `exclude` is alive to everyone but `exclude` (between scenarios). */
export async function settle(lab: Lab, exclude: readonly number[] = [], ms = 30_000): Promise<void> {
  await lab.waitFor('fleet settled', ms, () => lab.allAlive(lab.nodes.map((_, i) => i).filter((i) => !exclude.includes(i))));
}

export interface LossFigures {
  readonly scenario: string;
  readonly window_s: number;
  /** Verdict changes of the faulty device at the observer that logged the most, per minute of the window. */
  readonly changes_per_observer_per_min: number;
  readonly changes_max_observer: number;
  /** The most verdict changes one observer logged within any 60 s of the window. */
  readonly changes_busiest_minute: number;
  /** Those changes, with lab times. */
  readonly changes_at_busiest: string;
  /** Every status change (suspicions included) at the observer with the most. */
  readonly statuses_at_busiest: string;
  /** Healthy devices declared dead by healthy observers. */
  readonly healthy_deaths: readonly string[];
  /** Healthy devices declared dead by the faulty device itself. */
  readonly healthy_deaths_at_faulty: number;
  /** From the fault's end until every other node lists the device alive (null: not within the wait: 30 s, 45 s for the flapping link). */
  readonly alive_everywhere_ms: number | null;
  readonly final_statuses: readonly string[];
}

/** 80% loss both ways on one device for `lossMs`, then none. */
export async function flakyDevice(lab: Lab, t: Timings): Promise<LossFigures> {
  const f = ROLE.flaky;
  const t0 = lab.now;
  lab.setLoss(f, 0.8, true);
  await sleep(t.lossMs);
  const t1 = lab.now;
  lab.setLoss(f, 0);
  const finals = await statusesOf(lab, f);
  const back = await timeUntil(lab, 30_000, () => aliveEverywhere(lab, f));
  return lossFigures(lab, 'flaky-80pct-both-ways', f, t0, t1, back, finals);
}

/** Device `flap`'s cable cut and restored, `flapCycles` times. */
export async function flappingLink(lab: Lab, t: Timings): Promise<LossFigures> {
  const f = ROLE.flap;
  const t0 = lab.now;
  for (let c = 0; c < t.flapCycles; c++) {
    lab.cut(f);
    await sleep(t.flapDownMs);
    lab.restore(f);
    if (c < t.flapCycles - 1) await sleep(t.flapUpMs);
  }
  const t1 = lab.now;
  // Each cut starts its hold again (1.5 outages, at most 30 s on a LAN): allow for all of it.
  const back = await timeUntil(lab, 45_000, () => aliveEverywhere(lab, f));
  // The last up phase, kept whole so the window is the goal's cycle.
  await sleep(Math.max(0, t.flapUpMs - (lab.now - t1)));
  const finals = await statusesOf(lab, f);
  return lossFigures(lab, `link-flap-${t.flapDownMs / 1000}s-down-${t.flapUpMs / 1000}s-up`, f, t0, lab.now, back, finals);
}

function lossFigures(lab: Lab, scenario: string, f: number, t0: number, t1: number, back: number | null, finals: readonly string[]): LossFigures {
  const changes = verdictChanges(lab, t0, t1);
  const name = lab.name(f);
  const most = maxPerObserver(changes, name);
  return {
    scenario,
    window_s: round((t1 - t0) / 1000),
    changes_per_observer_per_min: round((most * 60_000) / (t1 - t0)),
    changes_max_observer: most,
    changes_busiest_minute: busiestMinute(changes, name),
    changes_at_busiest: sequence(busiest(changes, name)),
    statuses_at_busiest: sequence(busiest(statusChanges(lab, t0, t1), name)),
    healthy_deaths: deathsOf(statusChanges(lab, t0), (c) => c.member !== name && c.observer !== name),
    healthy_deaths_at_faulty: deathsOf(statusChanges(lab, t0), (c) => c.member !== name && c.observer === name).length,
    alive_everywhere_ms: back,
    final_statuses: finals,
  };
}

export interface StallFigures {
  readonly scenario: 'local-stall-sigstop';
  readonly stall_ms: number;
  /** Suspicions and deaths the frozen device raised or backed after it resumed. */
  readonly accusations_after_resume: readonly string[];
  readonly alive_everywhere_ms: number | null;
  /** From its resumption until no other node lists it suspect or dead (alive or unreliable). */
  readonly up_everywhere_ms: number | null;
  /** Its status changes at the observer that logged the most, from the freeze on. */
  readonly changes_at_busiest: string;
  readonly healthy_deaths: readonly string[];
}

export async function localStall(lab: Lab, t: Timings): Promise<StallFigures> {
  const s = ROLE.stall;
  const name = lab.name(s);
  const t0 = lab.now;
  lab.freeze(s);
  await sleep(t.stallMs);
  lab.freeze(s, false);
  const resumed = lab.now;
  const up = timeUntil(lab, 30_000, () => everywhere(lab, s, (m) => m.status === 'alive' || m.status === 'unreliable'));
  const back = await timeUntil(lab, 30_000, () => aliveEverywhere(lab, s));
  // Long enough for accusations it made on waking to be suspected and declared.
  await sleep(3000);
  const accusations = statusChanges(lab, resumed)
    .filter((c) => (c.status === 'suspect' || c.status === 'dead') && c.member !== name && (c.observer === name || c.sources.includes(name)))
    .map((c) => `${c.observer}: ${c.member} ${c.status} (by ${c.sources.join(',') || '?'}) at ${c.t} ms`);
  return {
    scenario: 'local-stall-sigstop',
    stall_ms: t.stallMs,
    accusations_after_resume: accusations,
    alive_everywhere_ms: back,
    up_everywhere_ms: await up,
    changes_at_busiest: sequence(busiest(statusChanges(lab, t0), name)),
    healthy_deaths: deathsOf(statusChanges(lab, t0), (c) => c.member !== name && c.observer !== name),
  };
}

export interface AddressFigures {
  readonly scenario: string;
  readonly from: string;
  readonly to: string;
  /** From the old address's removal until every other node lists the new one (null: not within 10 s). */
  readonly new_address_everywhere_ms: number | null;
  readonly deaths: readonly string[];
  /** Status changes of the device anywhere (suspicions included) from the change until 5 s after. */
  readonly status_changes: number;
  /** Datagrams the device failed to send meanwhile (its transport's sendErrors). */
  readonly send_errors: number;
}

/** A DHCP renew to a new address: add it, then remove the old one, on the same interface. */
export async function addressChange(lab: Lab): Promise<AddressFigures> {
  const r = ROLE.readdress;
  const t0 = lab.now;
  const errors = await sendErrors(lab, r);
  const [from, to] = [`10.77.0.${10 + r}`, `10.77.0.${110 + r}`];
  lab.addAddress(r, `${to}/24`);
  lab.removeAddress(r, `${from}/24`);
  return addressFigures(lab, `address-change-${from}-to-${to}`, r, t0, from, to, errors);
}

/** A move from eth0 to another interface (wlan0 on a Pi): the new one comes up with an address, then eth0 loses its address and goes down. */
export async function interfaceMove(lab: Lab): Promise<AddressFigures> {
  const m = ROLE.move;
  const t0 = lab.now;
  const errors = await sendErrors(lab, m);
  const [from, to] = [`10.77.0.${10 + m}`, `10.77.0.${110 + m}`];
  lab.addInterface(m, 'eth1');
  lab.addAddress(m, `${to}/24`, 'eth1');
  lab.removeAddress(m, `${from}/24`, 'eth0');
  lab.setLink(m, false, 'eth0');
  return addressFigures(lab, `interface-move-eth0-${from}-to-eth1-${to}`, m, t0, from, to, errors);
}

async function sendErrors(lab: Lab, i: number): Promise<number> {
  const r = await lab.api(i, 'GET', '/v1/status');
  return (r.body as { transport: { sendErrors: number } }).transport.sendErrors;
}

async function addressFigures(lab: Lab, scenario: string, j: number, t0: number, from: string, to: string, errorsBefore: number): Promise<AddressFigures> {
  const removed = lab.now;
  const seen = await timeUntil(lab, 10_000, () => everywhere(lab, j, (m) => m.addr === `${to}:7478`));
  await sleep(Math.max(0, 5000 - (lab.now - removed)));
  const changes = statusChanges(lab, t0);
  return {
    scenario,
    from,
    to,
    new_address_everywhere_ms: seen,
    deaths: deathsOf(changes, () => true),
    status_changes: changes.filter((c) => c.member === lab.name(j)).length,
    send_errors: (await sendErrors(lab, j)) - errorsBefore,
  };
}

export interface OneWayFigures {
  readonly scenario: 'one-way-multicast';
  readonly window_s: number;
  /** Status changes of the device whose multicast reaches nobody, at the observer with the most. */
  readonly unheard_changes_max_observer: number;
  /** The same for the device the group does not reach. */
  readonly deaf_changes_max_observer: number;
  readonly unheard_statuses: readonly string[];
  readonly deaf_statuses: readonly string[];
  readonly deaths: readonly string[];
  /** `murmur members --explain` at a healthy node, while the group reaches both only one way. */
  readonly explain: string;
  /** It says the unheard device's multicast does not reach it, and that the deaf one does not hear its multicast. */
  readonly explained_unheard: boolean;
  readonly explained_deaf: boolean;
}

/** The group one way only: `unheard` hears it but its own multicast reaches nobody; `deaf` is heard on it but hears nothing from it. Unicast works both ways for both. */
export async function oneWayReachability(lab: Lab, t: Timings): Promise<OneWayFigures> {
  const [u, d] = [ROLE.unheard, ROLE.deaf];
  const t0 = lab.now;
  lab.blockMulticast(u, true, 'out');
  lab.blockMulticast(d, true, 'in');
  await sleep(t.oneWayMs);
  const explain = await lab.murmur(0, ['members', '--explain']);
  const [unheard, deaf] = [await statusesOf(lab, u), await statusesOf(lab, d)];
  const t1 = lab.now;
  lab.blockMulticast(u, false);
  lab.blockMulticast(d, false);
  const changes = statusChanges(lab, t0, t1);
  // Explanations wrap at the terminal's width.
  const said = explain.out.replace(/\s+/g, ' ');
  return {
    scenario: 'one-way-multicast',
    explained_unheard: said.includes(`${lab.name(u)} is reached one way on the multicast group: its multicast has not reached this node`),
    explained_deaf: said.includes(`${lab.name(d)} is reached one way on the multicast group: it does not hear the multicast of this node`),
    window_s: round((t1 - t0) / 1000),
    unheard_changes_max_observer: maxPerObserver(changes, lab.name(u)),
    deaf_changes_max_observer: maxPerObserver(changes, lab.name(d)),
    unheard_statuses: unheard,
    deaf_statuses: deaf,
    deaths: deathsOf(changes, () => true),
    explain: explain.code === 0 ? explain.out : `murmur members --explain exited ${explain.code}: ${explain.err}`,
  };
}

export interface ClockFigures {
  readonly scenario: 'clock-step';
  readonly step_days: number;
  /** False when libfaketime is not installed: nothing was measured. */
  readonly ran: boolean;
  /** libfaketime is mapped into the stepped device's process. */
  readonly faketime_loaded: boolean;
  readonly deaths: readonly string[];
  /** Status changes of the stepped device anywhere while it ran through the steps. */
  readonly status_changes: number;
  /** The generations the others listed it with before, after the forward step and after the step back. */
  readonly gens_running: readonly (readonly number[])[];
  /** Its generation after a restart on the stepped-forward clock, and after another once stepped back. */
  readonly gen_restart_ahead: number;
  readonly gen_restart_back: number;
  readonly gen_before: number;
}

/** Step the clock device's wall clock forward by days and back while it runs, then restart it on each clock. */
export async function clockStep(lab: Lab, t: Timings): Promise<ClockFigures> {
  const c = ROLE.clock;
  const name = lab.name(c);
  const none = { scenario: 'clock-step' as const, step_days: t.clockStepDays, faketime_loaded: false, deaths: [], status_changes: 0, gens_running: [], gen_restart_ahead: 0, gen_restart_back: 0, gen_before: 0 };
  if (LIBFAKETIME === undefined) return { ...none, ran: false };
  const gens = async (): Promise<number[]> => Promise.all(others(lab, c).map(async (i) => (await rows(lab, i)).find((m) => m.id === name)?.gen ?? -1));
  const t0 = lab.now;
  const loaded = readFileSync(`/proc/${lab.pid(c) ?? 0}/maps`, 'utf8').includes('libfaketime');
  const gensRunning = [await gens()];
  const genBefore = gensRunning[0]![0]!;
  writeFileSync(clockFile(lab), `+${t.clockStepDays}d\n`);
  await sleep(t.clockSettleMs);
  gensRunning.push(await gens());
  writeFileSync(clockFile(lab), '+0\n');
  await sleep(t.clockSettleMs);
  gensRunning.push(await gens());
  const running = statusChanges(lab, t0);

  // A restart takes its generation from the wall clock when that is ahead of the last one:
  // days ahead, then back on the real clock, it must still go up.
  const restartGen = async (offset: string): Promise<number> => {
    writeFileSync(clockFile(lab), offset);
    await sleep(1200);
    await lab.stop(c);
    lab.start(c);
    await lab.waitFor(`${name} alive everywhere after its restart`, 20_000, () => aliveEverywhere(lab, c));
    return ((await lab.api(c, 'GET', '/v1/status')).body as { gen: number }).gen;
  };
  const ahead = await restartGen(`+${t.clockStepDays}d\n`);
  const back = await restartGen('+0\n');
  return {
    ...none,
    ran: true,
    faketime_loaded: loaded,
    deaths: deathsOf(statusChanges(lab, t0), () => true),
    status_changes: running.filter((x) => x.member === name || x.observer === name).length,
    gens_running: gensRunning,
    gen_before: genBefore,
    gen_restart_ahead: ahead,
    gen_restart_back: back,
  };
}

/** Every scenario in turn on one fleet, at full length, one JSON line each. */
async function main(argv: string[]): Promise<void> {
  const t = argv.includes('--short') ? SHORT : FULL;
  const lab = await Lab.create(fleetOptions());
  const stop = async (): Promise<void> => {
    await lab.destroy();
    process.exit(130);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const print = (x: object): void => console.log(JSON.stringify(x));
  try {
    // Eight processes starting at once take a while on a busy machine.
    await lab.waitFor('all alive', 60_000, () => lab.allAlive());
    print(await localStall(lab, t));
    await settle(lab);
    print(await addressChange(lab));
    print(await interfaceMove(lab));
    await settle(lab);
    const oneWay = await oneWayReachability(lab, t);
    print({ ...oneWay, explain: undefined });
    await settle(lab);
    print(await clockStep(lab, t));
    await settle(lab);
    print(await flakyDevice(lab, t));
    await settle(lab, [ROLE.flaky]);
    print(await flappingLink(lab, t));
  } finally {
    await lab.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`lab:verdicts: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  });
}
