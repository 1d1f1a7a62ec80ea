import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsRoot } from '../../../hal/fs-root.js';
import { Ds18b20Sensor, listDs18b20 } from '../../../hal/sensors/ds18b20.js';
import { SensorError } from '../../../hal/sensors/sensor.js';
import { FailingFs, FakeTree } from '../fake-tree.js';
import { readErr } from './support.js';

const W1 = '/sys/bus/w1/devices';
const ID = '28-0316a2795eff';
const good = (t: string, crc = '57 YES'): string => `72 01 4b 46 7f ff 0e 10 57 : crc=${crc}\n72 01 4b 46 7f ff 0e 10 57 t=${t}\n`;

let tree: FakeTree;
beforeEach(() => {
  tree = new FakeTree();
});
afterEach(() => tree.remove());

const probe = (id: string, text: string): void => {
  tree.file(`${W1}/${id}/w1_slave`, text);
};

describe('listDs18b20', () => {
  it('lists only 28-* devices, sorted', () => {
    probe('28-0416b1234567', good('1000'));
    probe(ID, good('1000'));
    tree.dir(`${W1}/w1_bus_master1`).dir(`${W1}/10-000802b5a0b1`);
    expect(listDs18b20(tree.fs())).toEqual([ID, '28-0416b1234567']);
  });
});

describe('Ds18b20Sensor', () => {
  it('reads the only probe in degrees', async () => {
    probe(ID, good('23125'));
    tree.dir(`${W1}/w1_bus_master1`);
    const s = new Ds18b20Sensor('room', tree.fs());
    expect(s.type).toBe('ds18b20');
    expect(await s.read()).toEqual([{ quantity: 'temperature', value: 23.125, unit: '°C' }]);
  });
  it('reads the first probe when several are found and none is configured', async () => {
    probe(ID, good('20000'));
    probe('28-0416b1234567', good('30000'));
    expect((await new Ds18b20Sensor('t', tree.fs()).read())[0]?.value).toBe(20);
  });
  it('reads a configured probe, by full id or by serial', async () => {
    probe(ID, good('20000'));
    probe('28-0416b1234567', good('-1250'));
    expect((await new Ds18b20Sensor('t', tree.fs(), { device: '28-0416b1234567' }).read())[0]?.value).toBe(-1.25);
    expect((await new Ds18b20Sensor('t', tree.fs(), { device: '0416b1234567' }).read())[0]?.value).toBe(-1.25);
  });
  it('CRC NO is an error, not a reading', async () => {
    probe(ID, good('23125', '57 NO'));
    expect((await readErr(new Ds18b20Sensor('t', tree.fs()))).message).toBe(
      `sensor t: ${W1}/${ID}/w1_slave: CRC check failed (crc=57 NO): interference or a long or loose 1-Wire cable`,
    );
  });
  it('the 85000 power-on reset value is an error, not 85 °C', async () => {
    probe(ID, good('85000'));
    expect((await readErr(new Ds18b20Sensor('t', tree.fs()))).message).toMatch(/w1_slave: 85000 is the power-on reset value, not a reading/);
  });
  it('an all-zero scratchpad (valid CRC, data line stuck low) is an error', async () => {
    probe(ID, '00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n');
    expect((await readErr(new Ds18b20Sensor('t', tree.fs()))).message).toMatch(/all-zero scratchpad/);
  });
  it('a value outside the part range is an error', async () => {
    probe(ID, good('150000'));
    expect((await readErr(new Ds18b20Sensor('t', tree.fs()))).message).toMatch(/t=150000 is outside the DS18B20 range/);
  });
  it('empty, garbage and truncated files are errors describing the content', async () => {
    const s = new Ds18b20Sensor('t', tree.fs());
    probe(ID, '');
    expect((await readErr(s)).message).toMatch(/w1_slave: empty/);
    probe(ID, 'hello world\n');
    expect((await readErr(s)).message).toMatch(/w1_slave: unparseable "hello world"/);
    probe(ID, '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f');
    expect((await readErr(s)).message).toMatch(/w1_slave: truncated: no "t=" temperature/);
    probe(ID, '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23x\n');
    expect((await readErr(s)).message).toMatch(/unparseable temperature "t=23x"/);
  });
  it('a configured probe that is gone is an error naming it and listing the others', async () => {
    probe(ID, good('20000'));
    expect((await readErr(new Ds18b20Sensor('t', tree.fs(), { device: '28-000000000001' }))).message).toBe(
      `sensor t: DS18B20 28-000000000001 not on the 1-Wire bus (found: ${ID})`,
    );
  });
  it('no probe at all is an error with a hint', async () => {
    tree.dir(`${W1}/w1_bus_master1`);
    expect((await readErr(new Ds18b20Sensor('t', tree.fs()))).message).toMatch(/no DS18B20 \(28-\*\) under \/sys\/bus\/w1\/devices .*w1-gpio/);
  });
  it('permission and I/O errors name the file', async () => {
    probe(ID, good('20000'));
    const path = `${W1}/${ID}/w1_slave`;
    expect((await readErr(new Ds18b20Sensor('t', new FailingFs(tree.root).failOn(path, 'EACCES')))).message).toBe(`sensor t: ${path}: permission denied (EACCES)`);
    expect((await readErr(new Ds18b20Sensor('t', new FailingFs(tree.root).failOn(path, 'EIO')))).message).toBe(`sensor t: ${path}: I/O error (EIO)`);
  });
  it('a hung bus times out instead of hanging', async () => {
    probe(ID, good('20000'));
    class Stuck extends FsRoot {
      override read(): Promise<string> {
        return new Promise(() => {});
      }
    }
    expect((await readErr(new Ds18b20Sensor('t', new Stuck(tree.root), { timeoutMs: 20 }))).message).toMatch(/w1_slave: no answer within 20 ms/);
  });
});
