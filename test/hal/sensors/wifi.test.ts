import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SensorError } from '../../../hal/sensors/sensor.js';
import { parseWireless, WifiSensor, WIRELESS, wirelessInterfaces } from '../../../hal/sensors/wifi.js';
import { FailingFs, FakeTree } from '../fake-tree.js';
import { readErr } from './support.js';

const HEAD = 'Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n';
const WLAN0 = ' wlan0: 0000   56.  -54.  -256        0      0      0      0      0        0\n';
const WLAN1 = ' wlan1: 0000   30   -80   -256        0      0      0      0      0        0\n';

let tree: FakeTree;
beforeEach(() => {
  tree = new FakeTree();
});
afterEach(() => tree.remove());


describe('parseWireless', () => {
  it('reads each interface line, the trailing dot being an update mark', () => {
    expect(parseWireless(HEAD + WLAN0 + WLAN1)).toEqual([
      { iface: 'wlan0', quality: 56, level: -54 },
      { iface: 'wlan1', quality: 30, level: -80 },
    ]);
  });
  it('turns an unsigned-byte level back into dBm', () => {
    expect(parseWireless(`${HEAD} wlan0: 0000   56.  202.  0        0      0      0      0      0        0\n`)).toEqual([{ iface: 'wlan0', quality: 56, level: -54 }]);
  });
  it('reports the first line it cannot read', () => {
    expect(parseWireless('garbage\n')).toEqual({ bad: 'garbage' });
    expect(parseWireless(`${HEAD} wlan0: 0000   56.\n`)).toEqual({ bad: ' wlan0: 0000   56.' });
  });
});

describe('WifiSensor', () => {
  it('gives signal in dBm and link quality for the first interface', async () => {
    tree.file(WIRELESS, HEAD + WLAN0 + WLAN1);
    const s = new WifiSensor('wifi', tree.fs());
    expect(s.type).toBe('wifi');
    expect(await s.read()).toEqual([
      { quantity: 'signal', value: -54, unit: 'dBm' },
      { quantity: 'quality', value: 56, unit: '' },
    ]);
  });
  it('reads a configured interface', async () => {
    tree.file(WIRELESS, HEAD + WLAN0 + WLAN1);
    expect((await new WifiSensor('wifi', tree.fs(), { interface: 'wlan1' }).read())[0]?.value).toBe(-80);
  });
  it('a missing configured interface is an error naming it and what is listed', async () => {
    tree.file(WIRELESS, HEAD + WLAN0);
    expect((await readErr(new WifiSensor('wifi', tree.fs(), { interface: 'wlan1' }))).message).toBe(`sensor wifi: interface wlan1 not in ${WIRELESS} (listed: wlan0)`);
    tree.file(WIRELESS, HEAD);
    expect((await readErr(new WifiSensor('wifi', tree.fs(), { interface: 'wlan1' }))).message).toBe(`sensor wifi: interface wlan1 not in ${WIRELESS} (no wireless interface listed)`);
  });
  it('no interface at all is an error', async () => {
    tree.file(WIRELESS, HEAD);
    expect((await readErr(new WifiSensor('wifi', tree.fs()))).message).toMatch(/no wireless interface in \/proc\/net\/wireless/);
  });
  it('an interface that is up but not associated has no signal: an error, not -256 dBm', async () => {
    tree.file(WIRELESS, `${HEAD} wlan0: 0000    0.  -256.  -256        0      0      0      0      0        0\n`);
    expect((await readErr(new WifiSensor('wifi', tree.fs()))).message).toBe(`sensor wifi: wlan0: no signal in ${WIRELESS} (not associated?)`);
  });
  it('empty, garbage, truncated, missing and unreadable files are errors naming the file', async () => {
    const s = new WifiSensor('wifi', tree.fs());
    expect((await readErr(s)).message).toBe(`sensor wifi: ${WIRELESS} missing (device not present or driver not loaded)`);
    tree.file(WIRELESS, '');
    expect((await readErr(s)).message).toBe(`sensor wifi: ${WIRELESS} is empty`);
    tree.file(WIRELESS, '\u0000\u0001binary');
    expect((await readErr(s)).message).toMatch(/\/proc\/net\/wireless: unparseable line/);
    tree.file(WIRELESS, `${HEAD} wlan0: 00`);
    expect((await readErr(s)).message).toBe(`sensor wifi: ${WIRELESS}: unparseable line "wlan0: 00"`);
    const fs = new FailingFs(tree.root).failOn(WIRELESS, 'EACCES');
    expect((await readErr(new WifiSensor('wifi', fs))).message).toBe(`sensor wifi: ${WIRELESS}: permission denied (EACCES)`);
  });
});

describe('wirelessInterfaces', () => {
  it('lists interfaces, and nothing for a missing or broken file', () => {
    expect(wirelessInterfaces(tree.fs())).toEqual([]);
    tree.file(WIRELESS, 'junk');
    expect(wirelessInterfaces(tree.fs())).toEqual([]);
    tree.file(WIRELESS, HEAD + WLAN0 + WLAN1);
    expect(wirelessInterfaces(tree.fs())).toEqual(['wlan0', 'wlan1']);
  });
});
