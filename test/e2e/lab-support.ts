// Shared helpers for end-to-end tests on the fleet lab. These tests need root and iproute2;
// CI runs as root. Without them the suite says so and skips, rather than pretending to pass.

import { canCreateNamespaces } from '../../scripts/netns.js';
import { cleanStaleLabs, Lab, type LabOptions } from '../../scripts/lab/lab.js';

export const labAvailable = canCreateNamespaces();
if (!labAvailable) console.warn('e2e: skipped, network namespaces need root and iproute2');
else cleanStaleLabs();

export async function withLab<T>(opts: LabOptions, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create(opts);
  try {
    return await body(lab);
  } catch (e) {
    // The nodes' own logs are the first thing anyone debugging a failure will want.
    const logs = lab.nodes.map((n, i) => `--- ${n.name}\n${lab.output(i).split('\n').slice(-40).join('\n')}`).join('\n');
    throw new Error(`${(e as Error).message}\n${logs}`);
  } finally {
    await lab.destroy();
  }
}

export const all = (lab: Lab): number[] => lab.nodes.map((_, i) => i);

/** Every node in `observers` sees `owner`'s `key` with `value`. */
export async function allSee(lab: Lab, observers: readonly number[], owner: number, key: string, value: unknown): Promise<boolean> {
  for (const i of observers) {
    const r = await lab.api(i, 'GET', `/v1/kv/${lab.name(owner)}`).catch(() => undefined);
    const entry = (r?.body as Record<string, { value: unknown }> | undefined)?.[key];
    if (entry?.value !== value) return false;
  }
  return true;
}

/** Every node in `observers` has logged `member` as dead. */
export function allDeclaredDead(lab: Lab, observers: readonly number[], member: number): boolean {
  return observers.every((i) => lab.events(i, { event: 'member-status', member: lab.name(member), status: 'dead' }).length > 0);
}

/** Dead declarations about nodes that were running at the time, across the whole lab. */
export function falseDeaths(lab: Lab, mayDie: ReadonlySet<string>): string[] {
  const out: string[] = [];
  lab.nodes.forEach((n, i) => {
    for (const e of lab.events(i, { event: 'member-status', status: 'dead' })) {
      if (!mayDie.has(e.fields['member']!)) out.push(`${n.name} declared ${e.fields['member']} dead at ${Math.round(e.t)} ms`);
    }
  });
  return out;
}

export interface KeyList {
  readonly primary: string;
  readonly keys: readonly { readonly id: string; readonly state: string; readonly primary: boolean; readonly compromised: boolean }[];
}

/** Node i's fleet keyring as its API lists it (undefined when the API is not up). */
export async function keysOf(lab: Lab, i: number): Promise<KeyList | undefined> {
  const r = await lab.api(i, 'GET', '/v1/keys').catch(() => undefined);
  return r?.status === 200 ? (r.body as KeyList) : undefined;
}

/** The state node i lists key `id` in ('active', 'retired', 'gone'), if it lists it at all. */
export async function keyState(lab: Lab, i: number, id: string): Promise<string | undefined> {
  return (await keysOf(lab, i))?.keys.find((k) => k.id === id)?.state;
}

/** Node i's refusal counters from /v1/status, by reason. */
export async function refusalsOf(lab: Lab, i: number): Promise<Record<string, number>> {
  const r = await lab.api(i, 'GET', '/v1/status');
  return (r.body as { rejected: Record<string, number> }).rejected;
}
