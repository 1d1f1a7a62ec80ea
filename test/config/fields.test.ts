// The fields node.fleet, api.group, api.tcp (loopback only) and metrics.

import { describe, expect, it } from 'vitest';
import { configFiles } from './config-file.js';
import { apiTokenPath, loadConfig, metricsTokenPath } from '../../runtime/config/config.js';
import { parseLoopbackListen } from '../../runtime/config/api-listen.js';

const { load } = configFiles('murmur-fields-');

describe('new config fields', () => {
  it('all unset (or off) by default', () => {
    const c = loadConfig(undefined);
    expect(c.node.fleet).toBeUndefined();
    expect(c.api).toEqual({ socket: 'murmur.sock', group: undefined, tcp: undefined, tokenFile: 'api-token' });
    expect(c.metrics).toEqual({ enabled: false, listen: undefined, tokenFile: 'metrics-token', peerLabels: false, maxPeers: 32, processMetrics: true });
  });

  it('node.fleet: a name like node.name; null is unset', () => {
    expect(load('node:\n  fleet: greenhouse-2\n').node.fleet).toBe('greenhouse-2');
    expect(load('node:\n  fleet: ~\n').node.fleet).toBeUndefined();
    expect(() => load('node:\n  fleet: green house\n')).toThrow(/murmur\.yaml:2: node\.fleet: expected up to 64 letters, digits, "\.", "_" or "-", got "green house"/);
    expect(() => load('node:\n  fleet: 7\n')).toThrow(/murmur\.yaml:2: node\.fleet: expected a non-empty string, got 7/);
  });

  it('api.group: a group name or a gid, which YAML reads as a number and the config keeps as a string', () => {
    expect(load('api:\n  group: murmur-admin\n').api.group).toBe('murmur-admin');
    expect(load('api:\n  group: 1001\n').api.group).toBe('1001');
    expect(load('api:\n  group: "1001"\n').api.group).toBe('1001');
    for (const bad of ['"adm in"', '-1', '1.5', '[adm]', '"-adm"']) {
      expect(() => load(`api:\n  group: ${bad}\n`)).toThrow(/murmur\.yaml:2: api\.group: expected a group name \(such as "murmur-admin"\) or a numeric gid, got /);
    }
  });

  it('api.tokenFile: the TCP token, in the state directory unless the path is absolute', () => {
    expect(apiTokenPath(load('node:\n  stateDir: /srv/murmur\n'))).toBe('/srv/murmur/api-token');
    expect(apiTokenPath(load('node:\n  stateDir: /srv/murmur\napi:\n  tokenFile: tcp.token\n'))).toBe('/srv/murmur/tcp.token');
    expect(apiTokenPath(load('api:\n  tokenFile: /etc/murmur/token\n'))).toBe('/etc/murmur/token');
    expect(() => load('api:\n  tokenFile: ""\n')).toThrow(/murmur\.yaml:2: api\.tokenFile: expected a non-empty string/);
  });

  it('api.tcp: loopback only, written back in one form', () => {
    expect(load('api:\n  tcp: 127.0.0.1:7479\n').api.tcp).toBe('127.0.0.1:7479');
    expect(load('api:\n  tcp: 127.8.9.10:7479\n').api.tcp).toBe('127.8.9.10:7479');
    expect(load('api:\n  tcp: "[::1]:7479"\n').api.tcp).toBe('[::1]:7479');
    expect(load('api:\n  tcp: "[0:0:0:0:0:0:0:1]:7479"\n').api.tcp).toBe('[::1]:7479');
    expect(() => load('api:\n  tcp: 0.0.0.0:7479\n')).toThrow(
      /murmur\.yaml:2: api\.tcp: expected a loopback address and port such as "127\.0\.0\.1:7479" or "\[::1\]:7479" \(0\.0\.0\.0 is not loopback \(127\.0\.0\.0\/8\); the API must never listen on the network\), got "0\.0\.0\.0:7479"/,
    );
  });

  it.each([
    ['0.0.0.0:7479', '0.0.0.0 is not loopback (127.0.0.0/8)'],
    ['192.168.1.5:7479', '192.168.1.5 is not loopback (127.0.0.0/8)'],
    ['10.0.0.1:7479', '10.0.0.1 is not loopback (127.0.0.0/8)'],
    ['[::]:7479', ':: is not loopback (only ::1 is)'],
    ['[fd00::1]:7479', 'fd00::1 is not loopback (only ::1 is)'],
    ['[::ffff:127.0.0.1]:7479', '::ffff:127.0.0.1 is not loopback (only ::1 is)'],
    ['localhost:7479', '"localhost" is not an IPv4 address (host names are not accepted)'],
    ['127.0.0.1', 'not HOST:PORT (write IPv6 in brackets: [::1]:7479)'],
    ['::1:7479', 'not HOST:PORT (write IPv6 in brackets: [::1]:7479)'],
    ['127.0.0.1:0', 'port 0 is not 1-65535'],
    ['127.0.0.1:70000', 'port 70000 is not 1-65535'],
    ['[::1%lo]:7479', '"::1%lo" is not an IPv6 address without a zone'],
    ['[fd00::zz]:7479', '"fd00::zz" is not an IPv6 address without a zone'],
  ])('api.tcp refuses %s: %s', (address, why) => {
    expect(() => parseLoopbackListen(address)).toThrow(why);
    expect(() => load(`api:\n  tcp: "${address}"\n`)).toThrow(/api\.tcp: expected a loopback address/);
  });

  it('metrics: enabled, a LAN listen address (IP literal, only with enabled), per-peer labels capped', () => {
    expect(load('metrics:\n  enabled: true\n').metrics).toMatchObject({ enabled: true, listen: undefined });
    const c = load('metrics:\n  enabled: true\n  listen: "[0:0::0]:9479"\n  peerLabels: true\n  maxPeers: 5\n');
    expect(c.metrics).toMatchObject({ enabled: true, listen: '[::]:9479', peerLabels: true, maxPeers: 5 });
    expect(load('metrics:\n  enabled: true\n  listen: 0.0.0.0:9479\n').metrics.listen).toBe('0.0.0.0:9479');
    expect(metricsTokenPath(c)).toMatch(/metrics-token$/);
    expect(() => load('metrics:\n  enabled: yes please\n')).toThrow(/murmur\.yaml:2: metrics\.enabled: expected true or false, got "yes please"/);
    expect(() => load('metrics:\n  listen: 0.0.0.0:9479\n')).toThrow(/murmur\.yaml:2: metrics\.listen: set, but metrics\.enabled is false/);
    expect(() => load('metrics:\n  enabled: true\n  listen: pi.local:9479\n')).toThrow(/murmur\.yaml:3: metrics\.listen: expected an IP address and port .*host names are not accepted/);
    expect(() => load('metrics:\n  enabled: true\n  listen: "[fe80::1%eth0]:9479"\n')).toThrow(/metrics\.listen: .*without a zone/);
    expect(() => load('metrics:\n  enabled: true\n  listen: 0.0.0.0:0\n')).toThrow(/metrics\.listen: .*port 0 is not 1-65535/);
    expect(() => load('metrics:\n  maxPeers: 1000\n')).toThrow(/murmur\.yaml:2: metrics\.maxPeers: expected an integer 1-256, got 1000/);
    expect(() => load('metrics:\n  peerLabels: 1\n')).toThrow(/metrics\.peerLabels: expected true or false, got 1/);
    expect(() => load('metrics:\n  port: 9100\n')).toThrow(/murmur\.yaml:2: metrics\.port: unknown field \(expected one of: enabled, listen, tokenFile, peerLabels, maxPeers, processMetrics\)/);
  });
});
