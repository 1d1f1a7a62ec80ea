// The hooks and mqtt sections: defaults, and errors that name the field.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFiles } from './config-file.js';
import { loadConfig } from '../../runtime/config/config.js';

const { load, dir } = configFiles('murmur-hooks-cfg-');

describe('hooks', () => {
  it('none by default; a hook with its defaults filled in', () => {
    expect(loadConfig(undefined).hooks).toEqual({ concurrency: 2, commands: [] });
    const c = load('hooks:\n  commands:\n    - name: page\n      on: member-failed\n      command: [/usr/local/bin/page, --fleet]\n');
    expect(c.hooks.commands).toEqual([{ name: 'page', events: ['member-failed'], prefix: undefined, command: ['/usr/local/bin/page', '--fleet'], shell: false, timeoutS: 30, coalesceMs: 1000 }]);
    const k = load('hooks:\n  commands:\n    - name: cfg\n      on: [key-changed, member-joined]\n      prefix: config/\n      shell: true\n      command: "logger -t murmur $MURMUR_KEY"\n');
    expect(k.hooks.commands[0]).toMatchObject({ events: ['key-changed', 'member-joined'], prefix: 'config/', shell: true, command: ['logger -t murmur $MURMUR_KEY'] });
  });

  it('each mistake names its field, all at once', () => {
    const text = [
      'hooks:',
      '  concurrency: 0',
      '  commands:',
      '    - name: Page Me',
      '      on: member-died',
      '      command: /bin/true',
      '    - name: cfg',
      '      on: key-changed',
      '      command: [/bin/true]',
      '      timeoutS: 0',
      '    - name: x',
      '      on: member-joined',
      '      command: [/bin/true]',
      '      comand: typo',
      '    - name: y',
      '      on: key-changed',
      '      prefix: _murmur/',
      '      command: [/bin/true]',
      '',
    ].join('\n');
    let message = '';
    try {
      load(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/murmur\.yaml:2: hooks\.concurrency: expected an integer 1-16, got 0/);
    expect(message).toMatch(/hooks\.commands\[0\]\.name: expected a short lower-case name/);
    expect(message).toMatch(/hooks\.commands\[1\]\.prefix: expected a key prefix for the key-changed event/);
    expect(message).toMatch(/hooks\.commands\[2\]\.comand: unknown field; did you mean command\?/);
    expect(message).toMatch(/hooks\.commands\[3\]\.prefix: "_murmur\/" keys belong to murmur itself/);
    expect(() => load('hooks:\n  commands:\n    - name: a\n      on: member-failed\n      command: /bin/true\n')).toThrow(/hooks\.commands\[0\]\.command: expected a list: the program and its arguments, run without a shell/);
    expect(() => load('hooks:\n  commands:\n    - name: a\n      on: [member-failed, nope]\n      command: [/bin/true]\n')).toThrow(/hooks\.commands\[0\]\.on: expected an event or a list of events from member-joined, member-failed, member-left, member-unreliable, member-alive-again, key-changed/);
    expect(() => load('hooks:\n  commands:\n    - name: a\n      on: member-failed\n      command: [/bin/true]\n    - name: a\n      on: member-left\n      command: [/bin/true]\n')).toThrow(/hooks\.commands\[1\]\.name: expected a name not already used by hooks\.commands\[0\]/);
    expect(() => load('hooks:\n  commands:\n    - name: a\n      on: member-failed\n      command: [/bin/true]\n      timeoutS: 99999\n')).toThrow(/hooks\.commands\[0\]\.timeoutS: expected an integer 1-3600, got 99999/);
  });
});

describe('mqtt', () => {
  it('off by default; paths resolve against the file', () => {
    expect(loadConfig(undefined).mqtt).toMatchObject({ enabled: false, url: undefined, topicPrefix: 'murmur', discoveryPrefix: 'homeassistant', keys: [], commands: false });
    const c = load('mqtt:\n  enabled: true\n  url: mqtts://broker.lan:8883\n  username: murmur\n  passwordFile: mqtt.pass\n  caFile: /etc/ssl/ca.pem\n  keys: [app/]\n  discoveryPrefix: ~\n');
    expect(c.mqtt).toMatchObject({ enabled: true, url: 'mqtts://broker.lan:8883', username: 'murmur', passwordFile: join(dir(), 'mqtt.pass'), caFile: '/etc/ssl/ca.pem', keys: ['app/'], discoveryPrefix: undefined });
  });

  it('errors name the field; a password is never in the config or an error', () => {
    expect(() => load('mqtt:\n  enabled: true\n')).toThrow(/murmur\.yaml:2: mqtt\.enabled: true needs mqtt\.url, the broker's address/);
    expect(() => load('mqtt:\n  url: http://x\n')).toThrow(/mqtt\.url: expected a URL starting mqtt:\/\/ or mqtts:\/\//);
    let message = '';
    try {
      load('mqtt:\n  url: mqtt://user:hunter2@broker:1883\n');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/mqtt\.url: holds credentials: put the user in mqtt\.username and the password in the file mqtt\.passwordFile names/);
    expect(message).not.toContain('hunter2');
    expect(() => load('mqtt:\n  password: hunter2\n')).toThrow(/mqtt\.password: unknown field.*passwordFile/);
    expect(() => load('mqtt:\n  url: mqtt://b:1883\n  caFile: /ca.pem\n')).toThrow(/mqtt\.url: TLS files are set \(mqtt\.caFile, mqtt\.certFile\): use an mqtts:\/\/ URL/);
    expect(() => load('mqtt:\n  url: mqtts://b:8883\n  certFile: /c.pem\n')).toThrow(/mqtt\.keyFile: a client certificate needs both/);
    expect(() => load('mqtt:\n  topicPrefix: "a/#"\n')).toThrow(/mqtt\.topicPrefix: expected topic levels/);
    expect(() => load('mqtt:\n  keys: [_murmur/]\n')).toThrow(/mqtt\.keys: expected a list of key prefixes/);
  });
});
