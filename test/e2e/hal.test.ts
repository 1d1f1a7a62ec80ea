import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labAvailable, withLab } from './lab-support.js';
import type { Lab } from '../../scripts/lab/lab.js';
import { FakeTree } from '../hal/fake-tree.js';

// The hardware layer on real processes: each node gets a fake Pi (/sys/class/leds/ACT and a CPU
// thermal zone) under --hal-root. Their status LEDs follow the fleet, `murmur identify` from one
// device makes another strobe, and every device's temperature is visible, aggregated, on the others.

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
const ACT = '/sys/class/leds/ACT';
const TEMP = '/sys/class/thermal/thermal_zone0/temp';

interface Led {
  status: string;
  leds: Array<{ backend: string; device: string; playing: string | null }>;
}
interface Aggregate {
  key: string;
  count: number;
  min: number | null;
  max: number | null;
  stale: string[];
  errors: string[];
}

async function ledOf(lab: Lab, i: number): Promise<Led | undefined> {
  const r = await lab.api(i, 'GET', '/v1/status').catch(() => undefined);
  return (r?.body as { led?: Led } | undefined)?.led;
}

async function temperature(lab: Lab, i: number): Promise<Aggregate | undefined> {
  const r = await lab.api(i, 'GET', '/v1/sensors/fleet').catch(() => undefined);
  return (r?.body as Aggregate[] | undefined)?.find((a) => a.key === 'sensor/cpu/temperature');
}

describe.skipIf(!labAvailable)('fleet lab: status LEDs and sensors', () => {
  it('LEDs go healthy, identify reaches the right device and ends, readings aggregate fleet-wide with errors and stale devices named, and the board LED is handed back on stop', async () => {
    const trees = [0, 1, 2].map((i) => {
      const t = new FakeTree();
      t.file(`${ACT}/trigger`, 'none rc-feedback timer oneshot heartbeat default-on [mmc0]\n')
        .file(`${ACT}/brightness`, '0\n')
        .file(`${ACT}/max_brightness`, '255\n')
        .file('/sys/class/thermal/thermal_zone0/type', 'cpu-thermal\n')
        .file(TEMP, `${45000 + i * 1000}\n`);
      return t;
    });
    const config = join(trees[0]!.root, 'murmur.json');
    writeFileSync(
      config,
      JSON.stringify({ hal: { sensors: [{ name: 'cpu', type: 'cpu-temperature', schedule: '* * * * * *', maxIntervalS: 10 }], sampling: { spreadS: 0 } } }),
    );
    try {
      await withLab({ nodes: 3, args: ['--families', 'ipv4', '--config', config], halRoot: (i) => trees[i]!.root }, async (lab) => {
        await lab.waitFor('all alive', 10_000, () => lab.allAlive());
        await lab.waitFor('every LED healthy', 10_000, async () => (await Promise.all([0, 1, 2].map((i) => ledOf(lab, i)))).every((l) => l?.status === 'healthy'));
        const led0 = (await ledOf(lab, 0))!;
        expect(led0.leds[0]).toMatchObject({ backend: 'sysfs-led', playing: 'healthy' });
        // murmur drives the LED itself: the kernel trigger is off while it runs.
        expect(trees[0]!.read(`${ACT}/trigger`).trim()).toBe('none');

        await lab.waitFor('three temperatures at n0', 10_000, async () => (await temperature(lab, 0))?.count === 3);
        expect(await temperature(lab, 0)).toMatchObject({ min: 45, max: 47, stale: [], errors: [] });

        // identify n2 from n0, through the CLI as a person would.
        const cli = (...args: string[]): string => execFileSync('node', [BIN, ...args, '--state-dir', join(lab.dir, 'n0')], { encoding: 'utf8' });
        expect(cli('identify', 'n2', '--for', '60')).toContain('n2 is identifying for 60 s');
        await lab.waitFor('n2 identifies', 10_000, async () => (await ledOf(lab, 2))?.status === 'identify');
        expect((await ledOf(lab, 1))?.status).toBe('healthy');
        cli('identify', 'n2', '--off');
        await lab.waitFor('n2 stops identifying', 10_000, async () => (await ledOf(lab, 2))?.status === 'healthy');

        // A reading that moves past the deadband, and a sensor that breaks, are seen fleet-wide.
        trees[1]!.file(TEMP, '61000\n');
        await lab.waitFor('n1 at 61 °C seen by n0', 10_000, async () => (await temperature(lab, 0))?.max === 61);
        trees[2]!.file(TEMP, 'garbage\n');
        await lab.waitFor('n2 sensor error seen by n0', 10_000, async () => (await temperature(lab, 0))?.errors.includes('n2') === true);
        const rows = JSON.parse(cli('sensors', 'sensor/cpu/temperature', '--json')) as Array<{ owner: string; state: string; error: string | null }>;
        expect(rows.find((r) => r.owner === 'n2')).toMatchObject({ state: 'error' });
        expect(rows.find((r) => r.owner === 'n2')!.error).toContain(TEMP);

        // A device that dies is listed as stale, not silently dropped from the figures.
        lab.kill(2);
        await lab.waitFor('n2 stale at n0', 20_000, async () => (await temperature(lab, 0))?.stale.includes('n2') === true);
        expect((await temperature(lab, 0))?.count).toBe(2);

        expect(await lab.stop(0)).toBe(0);
        expect(trees[0]!.read(`${ACT}/trigger`)).toContain('mmc0');
      });
    } finally {
      for (const t of trees) t.remove();
    }
  });
});
