import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsRoot } from '../../../hal/fs-root.js';
import { CpuTemperatureSensor, pickThermalZone, thermalZones } from '../../../hal/sensors/thermal.js';
import { SensorError } from '../../../hal/sensors/sensor.js';
import { FailingFs, FakeTree } from '../fake-tree.js';

let tree: FakeTree;
beforeEach(() => {
  tree = new FakeTree();
});
afterEach(() => tree.remove());

const zone = (n: number, type: string, temp: string): void => {
  tree.file(`/sys/class/thermal/thermal_zone${n}/type`, `${type}\n`).file(`/sys/class/thermal/thermal_zone${n}/temp`, temp);
};

describe('zone choice', () => {
  it('lists zones in number order, skipping cooling devices', () => {
    zone(10, 'b', '1');
    zone(2, 'a', '1');
    tree.file('/sys/class/thermal/cooling_device0/type', 'fan\n');
    expect(thermalZones(tree.fs())).toEqual([
      { zone: 'thermal_zone2', type: 'a' },
      { zone: 'thermal_zone10', type: 'b' },
    ]);
  });
  it('prefers the CPU zone by type, else falls back to the first zone', () => {
    const zones = [
      { zone: 'thermal_zone0', type: 'gpu-thermal' },
      { zone: 'thermal_zone1', type: 'cpu-thermal' },
    ];
    expect(pickThermalZone(zones)?.zone).toBe('thermal_zone1');
    expect(pickThermalZone([{ zone: 'thermal_zone0', type: 'bcm2835_thermal' }, { zone: 'thermal_zone1', type: 'x' }])?.zone).toBe('thermal_zone0');
    expect(pickThermalZone([{ zone: 'thermal_zone3', type: 'acpitz' }])?.zone).toBe('thermal_zone3');
    expect(pickThermalZone([])).toBeUndefined();
  });
  it('takes a configured zone as directory, number or type', () => {
    const zones = [
      { zone: 'thermal_zone0', type: 'cpu-thermal' },
      { zone: 'thermal_zone1', type: 'ddr-thermal' },
    ];
    expect(pickThermalZone(zones, 'thermal_zone1')?.zone).toBe('thermal_zone1');
    expect(pickThermalZone(zones, '1')?.zone).toBe('thermal_zone1');
    expect(pickThermalZone(zones, 'ddr-thermal')?.zone).toBe('thermal_zone1');
    expect(pickThermalZone(zones, '7')).toBeUndefined();
  });
});

describe('CpuTemperatureSensor', () => {
  it('reads the CPU zone in degrees from millidegrees', async () => {
    zone(0, 'gpu-thermal', '39000\n');
    zone(1, 'cpu-thermal', '48312\n');
    const s = new CpuTemperatureSensor('cpu', tree.fs());
    expect(s.type).toBe('cpu-temperature');
    expect(await s.read()).toEqual([{ quantity: 'temperature', value: 48.312, unit: '°C' }]);
  });
  it('reads below-zero temperatures', async () => {
    zone(0, 'cpu-thermal', '-5250\n');
    expect((await new CpuTemperatureSensor('cpu', tree.fs()).read())[0]?.value).toBe(-5.25);
  });
  it('reads a configured zone', async () => {
    zone(0, 'cpu-thermal', '48000\n');
    zone(1, 'ddr-thermal', '41000\n');
    expect((await new CpuTemperatureSensor('ddr', tree.fs(), { zone: 'ddr-thermal' }).read())[0]?.value).toBe(41);
  });
  it('a missing configured zone is an error naming it and listing what there is', async () => {
    zone(0, 'cpu-thermal', '48000\n');
    const err = await new CpuTemperatureSensor('cpu', tree.fs(), { zone: 'thermal_zone4' }).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SensorError);
    expect((err as Error).message).toBe('sensor cpu: thermal zone thermal_zone4 not found under /sys/class/thermal (have: thermal_zone0 (cpu-thermal))');
  });
  it('no thermal zone at all is an error', async () => {
    await expect(new CpuTemperatureSensor('cpu', tree.fs()).read()).rejects.toThrow('sensor cpu: no thermal zone under /sys/class/thermal');
  });
  it('an empty temp file is an error naming the file', async () => {
    zone(0, 'cpu-thermal', '');
    await expect(new CpuTemperatureSensor('cpu', tree.fs()).read()).rejects.toThrow('/sys/class/thermal/thermal_zone0/temp is empty (expected millidegrees Celsius)');
  });
  it('garbage or truncated content is an error quoting it', async () => {
    zone(0, 'cpu-thermal', 'hot\n');
    await expect(new CpuTemperatureSensor('cpu', tree.fs()).read()).rejects.toThrow('/sys/class/thermal/thermal_zone0/temp: unparseable "hot"');
    zone(0, 'cpu-thermal', '483\u0000');
    await expect(new CpuTemperatureSensor('cpu', tree.fs()).read()).rejects.toThrow(/unparseable/);
  });
  it('a permission error names the file', async () => {
    zone(0, 'cpu-thermal', '48000\n');
    const fs = new FailingFs(tree.root).failOn('/sys/class/thermal/thermal_zone0/temp', 'EACCES');
    await expect(new CpuTemperatureSensor('cpu', fs).read()).rejects.toThrow('sensor cpu: /sys/class/thermal/thermal_zone0/temp: permission denied (EACCES)');
  });
  it('a sensor that is not ready (EAGAIN) is reported as such', async () => {
    zone(0, 'cpu-thermal', '48000\n');
    const fs = new FailingFs(tree.root).failOn('/sys/class/thermal/thermal_zone0/temp', 'EAGAIN');
    await expect(new CpuTemperatureSensor('cpu', fs).read()).rejects.toThrow(/no data yet \(EAGAIN\)/);
  });
  it('a read that never returns times out instead of hanging', async () => {
    zone(0, 'cpu-thermal', '48000\n');
    class Stuck extends FsRoot {
      override read(): Promise<string> {
        return new Promise(() => {});
      }
    }
    await expect(new CpuTemperatureSensor('cpu', new Stuck(tree.root), { timeoutMs: 20 }).read()).rejects.toThrow(
      'sensor cpu: /sys/class/thermal/thermal_zone0/temp: no answer within 20 ms',
    );
  });
});
