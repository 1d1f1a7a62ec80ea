// The fleet page's fields: http.listen (an IP and port, loopback or not), http.tokenFile and
// http.maxClients. Errors name the file, line and field.

import { describe, expect, it } from 'vitest';
import { configFiles } from './config-file.js';
import { httpTokenPath, loadConfig } from '../../runtime/config/config.js';
import { parseHttpListen } from '../../runtime/config/http-listen.js';

const { load } = configFiles('murmur-http-fields-');

describe('http: the fleet page', () => {
  it('is off by default, with its token file in the state directory', () => {
    const c = loadConfig(undefined);
    expect(c.http).toEqual({ listen: undefined, tokenFile: 'page-token', maxClients: 4 });
    expect(httpTokenPath(c)).toBe('/var/lib/murmur/page-token');
    expect(httpTokenPath(load('http:\n  tokenFile: /etc/murmur/page-token\n'))).toBe('/etc/murmur/page-token');
  });

  it('http.listen: loopback or any IP address, written back in one form', () => {
    expect(load('http:\n  listen: 127.0.0.1:7480\n').http.listen).toBe('127.0.0.1:7480');
    expect(load('http:\n  listen: 0.0.0.0:7480\n').http.listen).toBe('0.0.0.0:7480');
    expect(load('http:\n  listen: "[0:0:0:0:0:0:0:1]:7480"\n').http.listen).toBe('[::1]:7480');
    expect(load('http:\n  listen: ~\n').http.listen).toBeUndefined();
    expect(parseHttpListen('127.0.0.1:7480').loopback).toBe(true);
    expect(parseHttpListen('[::1]:7480').loopback).toBe(true);
    expect(parseHttpListen('192.168.1.20:7480').loopback).toBe(false);
    expect(parseHttpListen('[::]:7480')).toEqual({ host: '::', port: 7480, loopback: false });
  });

  it.each([
    ['pi.local:7480', 'host names are not accepted'],
    ['127.0.0.1', 'not HOST:PORT'],
    ['127.0.0.1:70000', 'is not 0-65535'],
    ['[fe80::1%eth0]:7480', 'without a zone'],
  ])('http.listen refuses %s: %s', (address, why) => {
    expect(() => load(`http:\n  listen: "${address}"\n`)).toThrow(new RegExp(`murmur\\.yaml:2: http\\.listen: expected an IP address and port .*${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('http.maxClients: 1 to 32; http.tokenFile: a path; unknown fields are named', () => {
    expect(load('http:\n  maxClients: 10\n').http.maxClients).toBe(10);
    expect(() => load('http:\n  maxClients: 0\n')).toThrow(/murmur\.yaml:2: http\.maxClients: expected an integer 1-32, got 0/);
    expect(() => load('http:\n  maxClients: 100\n')).toThrow(/http\.maxClients: expected an integer 1-32, got 100/);
    expect(() => load('http:\n  tokenFile: ""\n')).toThrow(/murmur\.yaml:2: http\.tokenFile: expected a non-empty string/);
    expect(() => load('http:\n  port: 7480\n')).toThrow(/murmur\.yaml:2: http\.port: unknown field/);
  });
});
