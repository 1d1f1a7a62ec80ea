// The fleet dashboard (scripts/grafana/murmur-fleet.json) is valid JSON, and every query in it
// reads metrics a node serves, grouped by labels those metrics have, in PromQL promtool accepts.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileByName } from '../../runtime/core/profiles.js';
import { NodeMetrics } from '../../runtime/metrics/registry.js';
import { newCounters } from '../../runtime/net/transport.js';
import { Fleet } from '../../runtime/sim/fleet.js';

const DASHBOARD = join(import.meta.dirname, '../../scripts/grafana/murmur-fleet.json');

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
}

/** Every metric a node can serve (all options on), with its label names; histograms by their series names. */
async function served(): Promise<Map<string, Set<string>>> {
  const fleet = new Fleet({ seed: 1, nodes: 2, profile: profileByName('lan'), insecure: true });
  fleet.start();
  fleet.runFor(2_000);
  const m = new NodeMetrics(
    {
      node: fleet.node('n000'),
      host: fleet.host('n000'),
      transport: newCounters(),
      clock: () => 0,
      channel: { dropped: new Map() },
      gate: { refused: new Map() },
      keyring: () => ({ states: ['active'], pendingPromotions: 0, offersReceived: 0, offersRejected: 0 }),
      sensors: () => [],
      led: () => 'healthy',
    },
    { peerLabels: true, maxPeers: 4, processMetrics: true },
  );
  const out = new Map<string, Set<string>>();
  for (const x of await m.registry.getMetricsAsJSON()) {
    const labels = new Set<string>(['instance', 'job']);
    for (const v of x.values) for (const l of Object.keys(v.labels)) labels.add(l);
    // Label names a metric declares, even with no series yet (sensors with no reading).
    for (const l of (m.registry.getSingleMetric(x.name) as unknown as { labelNames: string[] }).labelNames) labels.add(l);
    const names = String(x.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => x.name + s) : [x.name];
    for (const n of names) out.set(n, new Set([...labels, ...(n.endsWith('_bucket') ? ['le'] : [])]));
  }
  m.close();
  return out;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; uid: string; panels: Panel[] };
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('the Grafana fleet dashboard', () => {
  it('is a dashboard with queries', () => {
    expect(dashboard).toMatchObject({ title: 'murmur fleet', uid: 'murmur-fleet' });
    expect(exprs.length).toBeGreaterThan(20);
  });

  it('names only metrics a node serves, and groups by labels they have', async () => {
    const metrics = await served();
    for (const { panel, expr } of exprs) {
      const names = expr.match(/\b(?:murmur|process|nodejs)_[a-z0-9_]+/g) ?? [];
      expect(names.length, `${panel}: ${expr} reads no metric`).toBeGreaterThan(0);
      for (const n of names) expect(metrics.has(n), `${panel}: ${n} is not a metric a node serves`).toBe(true);
      const labels = new Set(names.flatMap((n) => [...metrics.get(n)!]));
      for (const m of expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)|group_left\s*\(([^)]*)\)/g)) {
        for (const l of (m[1] ?? m[2] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
          expect(labels.has(l), `${panel}: ${expr} groups by "${l}", a label none of its metrics has`).toBe(true);
        }
      }
      for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
        for (const l of m[1]!.split(',').map((x) => x.split(/[=!~]/)[0]!.trim()).filter((x) => x !== '')) {
          expect(labels.has(l), `${panel}: ${expr} selects on "${l}", a label none of its metrics has`).toBe(true);
        }
      }
    }
  });

  it('is PromQL that promtool accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-grafana-'));
    try {
      // Recording rules are the one place promtool parses PromQL; Grafana's variables become a match-all.
      const rules = exprs.map((e, i) => `      - record: murmur_dashboard_${i}\n        expr: ${JSON.stringify(e.expr.replaceAll('$instance', '.*'))}\n`).join('');
      const file = join(dir, 'rules.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(r.error, 'promtool is missing: install Debian\'s "prometheus" package').toBeUndefined();
      expect(r.status, r.stdout + r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
