// The queries field: fleet queries answered by a command.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFiles } from './config-file.js';
import { loadConfig } from '../../runtime/config/config.js';

const { load } = configFiles('murmur-queries-');

describe('queries', () => {
  it('none by default; a command with its default timeout, or its own', () => {
    expect(loadConfig(undefined).queries).toEqual({});
    const c = load('queries:\n  disk-free:\n    command: [df, -h, /]\n  temp:\n    command: [/usr/bin/vcgencmd, measure_temp]\n    timeoutMs: 500\n');
    expect({ ...c.queries }).toEqual({ 'disk-free': { command: ['df', '-h', '/'], timeoutMs: 2000 }, temp: { command: ['/usr/bin/vcgencmd', 'measure_temp'], timeoutMs: 500 } });
  });

  it('every mistake names its field and line, all at once', () => {
    const text = [
      'queries:',
      '  version:',
      '    command: [echo, 1]',
      '  shell:',
      '    command: "df -h /"',
      '  slow:',
      '    command: [sleep, "1"]',
      '    timeoutMs: 120000',
      '  typo:',
      '    comand: [true]',
      '',
    ].join('\n');
    let message = '';
    try {
      load(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/murmur\.yaml:2: queries\.version: "version" is a built-in query \(version, uptime, sensors, config-hash\); choose another name/);
    expect(message).toMatch(/murmur\.yaml:5: queries\.shell\.command: expected a non-empty list of strings: the program and its arguments \(no shell runs it\), got "df -h \/"/);
    expect(message).toMatch(/murmur\.yaml:8: queries\.slow\.timeoutMs: expected an integer 100-30000, got 120000/);
    expect(message).toMatch(/murmur\.yaml:10: queries\.typo\.comand: unknown field; did you mean command\?/);
  });

  it('a query name is a plain word', () => {
    expect(() => load('queries:\n  "Disk Free":\n    command: [df]\n')).toThrow(/queries\.Disk Free: expected a query name of up to 64 lower-case letters/);
  });
});
