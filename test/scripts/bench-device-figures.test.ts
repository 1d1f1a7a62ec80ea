import { describe, expect, it } from 'vitest';
import { cpuFromStat, cpuMsFromStat, cpuMsPerS, DeviceFigures, mbFromStatus, parseDeviceArgs, peerIds } from '../../scripts/bench-device-figures.js';
import { parseCpuStat } from '../../scripts/cpu-cap.js';

describe('bench:device options', () => {
  it('takes the shared options and a CPU cap', () => {
    const a = parseDeviceArgs(['--nodes', '128', '--loss', '0.1', '--steady', '30', '--cpu-cap', '0.1']);
    expect(a).toMatchObject({ nodes: 128, loss: 0.1, steady: 30, workload: 5, cpuCap: 0.1, peers: false });
    expect(parseDeviceArgs(['--nodes', '16']).cpuCap).toBeUndefined();
  });

  it('takes a warm-up before the steady window, none by default', () => {
    expect(parseDeviceArgs(['--nodes', '16', '--warmup', '120']).warmup).toBe(120);
    expect(parseDeviceArgs(['--nodes', '16']).warmup).toBe(0);
    expect(() => parseDeviceArgs(['--warmup', '-1'])).toThrow(/--warmup: expected seconds >= 0, got -1/);
  });

  it('refuses a cap outside (0, 1] and a fleet too small for the sequence, naming the flag', () => {
    expect(() => parseDeviceArgs(['--cpu-cap', '0'])).toThrow(/--cpu-cap: .* got 0/);
    expect(() => parseDeviceArgs(['--cpu-cap', '10'])).toThrow(/--cpu-cap/);
    expect(() => parseDeviceArgs(['--cpu-cap', 'x'])).toThrow(/--cpu-cap: expected a number, got x/);
    expect(() => parseDeviceArgs(['--nodes', '2'])).toThrow(/--nodes: expected at least 3/);
    expect(() => parseDeviceArgs(['--crash', '3'])).toThrow(/unknown option --crash/);
  });

  it('names the peers n001 .. n(N-1)', () => {
    expect(peerIds(4)).toEqual(['n001', 'n002', 'n003']);
  });
});

describe('DeviceFigures', () => {
  const peers = peerIds(4);

  it('joins when the device has seen every peer, once each, and not before', () => {
    const f = new DeviceFigures(peers);
    f.joined(100, 'n001');
    f.joined(150, 'n001');
    f.joined(200, 'n002');
    f.joined(250, 'someone-else');
    expect(f.joinedAt).toBe(-1);
    expect(f.missing).toEqual(['n003']);
    f.joined(300, 'n003');
    expect(f.joinedAt).toBe(300);
    f.joined(400, 'n003');
    expect(f.joinedAt).toBe(300);
  });

  it('times the update and the detection from their own start, and counts only deaths of running peers as false', () => {
    const f = new DeviceFigures(peers);
    // A refuted suspicion leaves the verdict alive: no flap.
    f.status(50, 'n002', 'suspect', false);
    f.status(60, 'n002', 'alive', false);
    f.status(65, 'n002', 'suspect', false);
    f.status(66, 'n002', 'unreliable', true);
    f.status(70, 'n001', 'dead', true);
    f.updated(1000);
    f.updateSeen(1040);
    f.updateSeen(1100);
    expect(f.updateMs).toBe(40);
    expect(f.detectMs).toBe(-1);
    f.killed(2000, 'n003');
    f.status(3500, 'n003', 'suspect');
    f.status(4200, 'n003', 'dead');
    expect(f.detectMs).toBe(2200);
    expect(f.falsePositives).toBe(1);
    expect(f.falsePositiveLog[0]).toMatch(/n001 dead/);
    // Two verdict changes of peers that ran throughout (n002 unreliable, n001 dead), over half an hour.
    expect(f.flapsPerHour(1_800_000)).toBe(4);
  });

  it('keeps what the peers saw of the device apart', () => {
    const f = new DeviceFigures(peers);
    for (const p of peers) f.peerSawDevice(10 * Number(p.slice(1)), p);
    expect(f.peersJoinedAt).toBe(30);
    expect(f.deviceDeclaredDeadWhen).toBeNull();
    f.peerJudgedDevice(4000, 'n001', 'suspect');
    f.peerJudgedDevice(5000, 'n001', 'dead');
    f.peerJudgedDevice(9000, 'n001', 'dead');
    f.peerJudgedDevice(9500, 'n002', 'alive');
    expect(f.deviceDeclaredDeadBy).toBe(1);
    expect(f.deviceSuspicions).toBe(1);
    expect(f.deviceDeclaredDeadWhen).toEqual({ firstMs: 5000, lastMs: 9000 });
  });
});

describe('/proc and cgroup readings', () => {
  it('reads utime + stime past a command name holding spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[14 - 3] = '250';
    fields[15 - 3] = '50';
    const text = `1234 (node (x) y) ${fields.join(' ')}\n`;
    expect(cpuFromStat(text)).toEqual({ userMs: 2500, systemMs: 500 });
    expect(cpuMsFromStat(text)).toBe(3000);
    expect(() => cpuMsFromStat('garbage')).toThrow(/no "\)"/);
  });

  it('reads VmRSS and VmHWM in MB', () => {
    const status = 'Name:\tnode\nVmHWM:\t   70656 kB\nVmRSS:\t   65536 kB\n';
    expect(mbFromStatus(status, 'VmRSS')).toBe(64);
    expect(mbFromStatus(status, 'VmHWM')).toBe(69);
    expect(() => mbFromStatus('Name: x\n', 'VmRSS')).toThrow(/no VmRSS/);
  });

  it('turns two CPU readings into ms per second of wall time', () => {
    expect(cpuMsPerS(1000, 1060, 30_000)).toBe(2);
    expect(() => cpuMsPerS(0, 1, 0)).toThrow(/window/);
  });

  it('parses cpu.stat of either cgroup version', () => {
    expect(parseCpuStat('nr_periods 300\nnr_throttled 12\nthrottled_time 4500000\n')).toEqual({ nr_periods: 300, nr_throttled: 12, throttled_time: 4500000 });
    expect(parseCpuStat('usage_usec 10\nthrottled_usec 7\n\n')).toEqual({ usage_usec: 10, throttled_usec: 7 });
  });
});
