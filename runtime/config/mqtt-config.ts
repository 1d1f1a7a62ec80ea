// The `mqtt` section of the device config: the broker one device of the fleet bridges to, and
// what it publishes there. Off by default. The password is read from a file (never from the
// config itself), so `murmur config show` and every log line stay free of it.

import { ConfigError, fieldRecorder } from './config-error.js';

export interface MqttConfig {
  readonly enabled: boolean;
  /** "mqtt://host:1883" or "mqtts://host:8883" (TLS). */
  readonly url: string | undefined;
  readonly username: string | undefined;
  readonly passwordFile: string | undefined;
  /** TLS: the CA that signed the broker's certificate, and a client certificate and key when the broker asks for one. */
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  /** Topics are `<topicPrefix>/<device>/...`. */
  readonly topicPrefix: string;
  /** Home Assistant's discovery prefix; null turns discovery off. */
  readonly discoveryPrefix: string | undefined;
  /** Key prefixes published besides the sensor readings. */
  readonly keys: readonly string[];
  /** Accept identify commands from MQTT (off: the bridge subscribes to nothing). */
  readonly commands: boolean;
}

type Obj = Record<string, unknown>;
type Fail = (path: string, expected: string, got: unknown) => never;
type Bad = (path: string, message: string) => never;

const TOPIC_PART = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

export function validateMqtt(m: Obj, fail: Fail, bad: Bad, filePath: (path: string, v: string) => string, record: (e: ConfigError) => void): MqttConfig {
  const field = fieldRecorder(record);
  const optStr = (k: string): string | undefined => {
    const v = m[k];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' && v !== '' ? v : fail(`mqtt.${k}`, 'a non-empty string', v);
  };
  const optFile = (k: string): string | undefined => {
    const v = optStr(k);
    return v === undefined ? undefined : filePath(`mqtt.${k}`, v);
  };
  const enabled = field(() => (typeof m.enabled === 'boolean' ? m.enabled : fail('mqtt.enabled', 'true or false', m.enabled)), false);
  const url = field(() => {
    const u = optStr('url');
    if (u === undefined) {
      if (enabled) bad('mqtt.enabled', 'true needs mqtt.url, the broker\'s address such as "mqtt://192.168.1.10:1883"');
      return undefined;
    }
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      return fail('mqtt.url', 'a URL such as "mqtt://192.168.1.10:1883" or "mqtts://broker.lan:8883"', u);
    }
    if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') fail('mqtt.url', 'a URL starting mqtt:// or mqtts:// (TLS)', u);
    // The URL is logged; a password in it would be too.
    if (parsed.password !== '' || parsed.username !== '') bad('mqtt.url', 'holds credentials: put the user in mqtt.username and the password in the file mqtt.passwordFile names');
    return u;
  }, undefined);
  const username = field(() => optStr('username'), undefined);
  const passwordFile = field(() => optFile('passwordFile'), undefined);
  const caFile = field(() => optFile('caFile'), undefined);
  const certFile = field(() => optFile('certFile'), undefined);
  const keyFile = field(() => optFile('keyFile'), undefined);
  field(() => (certFile === undefined) === (keyFile === undefined) || bad(certFile === undefined ? 'mqtt.certFile' : 'mqtt.keyFile', 'a client certificate needs both mqtt.certFile and mqtt.keyFile'), true);
  field(() => (caFile === undefined && certFile === undefined) || url === undefined || url.startsWith('mqtts:') || bad('mqtt.url', 'TLS files are set (mqtt.caFile, mqtt.certFile): use an mqtts:// URL'), true);
  const topicPrefix = field(() => {
    const t = m.topicPrefix;
    return typeof t === 'string' && TOPIC_PART.test(t) ? t : fail('mqtt.topicPrefix', 'topic levels of letters, digits, ".", "_" or "-" such as "murmur" (no wildcards)', t);
  }, 'murmur');
  const discoveryPrefix = field(() => {
    const t = m.discoveryPrefix;
    if (t === null) return undefined;
    return typeof t === 'string' && TOPIC_PART.test(t) ? t : fail('mqtt.discoveryPrefix', 'Home Assistant\'s discovery prefix such as "homeassistant", or null for no discovery', t);
  }, undefined);
  const keys = field(() => {
    const k = m.keys;
    if (!Array.isArray(k) || !k.every((x) => typeof x === 'string' && x !== '' && !x.startsWith('_murmur/'))) return fail('mqtt.keys', 'a list of key prefixes to publish, such as ["app/"] (not "_murmur/")', k);
    return k as string[];
  }, []);
  const commands = field(() => (typeof m.commands === 'boolean' ? m.commands : fail('mqtt.commands', 'true or false', m.commands)), false);
  return { enabled, url, username, passwordFile, caFile, certFile, keyFile, topicPrefix, discoveryPrefix, keys, commands };
}
