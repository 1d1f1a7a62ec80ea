// What the bridge puts on the broker, and who bridges: pure functions, no broker.
import { describe, expect, it } from 'vitest';
import { bridgeValue, brokerTag, chooseBridge } from '../../runtime/agent/mqtt/bridge-election.js';
import { desiredTopics, haClass } from '../../runtime/agent/mqtt/mqtt-topics.js';

const opts = { topicPrefix: 'murmur', discoveryPrefix: 'homeassistant', keys: ['app/'], commands: true };

describe('topics', () => {
  it('one device: availability, readings, chosen keys and its Home Assistant discovery', () => {
    const t = desiredTopics('pi-a', [
      {
        id: 'pi-b.attic',
        online: true,
        values: [
          ['sensor/env/temperature', '{"v":21.44,"u":"°C","t":1795424497,"i":300}'],
          ['sensor/env/humidity', '{"v":45.5,"u":"%RH","t":1795424497,"i":300}'],
          ['sensor/wifi/signal', '{"e":"no wlan0","u":"dBm","t":1795424497,"i":300}'],
          ['app/mode', 'eco'],
          ['app/count', 3],
          ['other/x', 'not chosen'],
          ['sensor/bad', 'not a reading'],
        ],
      },
      { id: 'pi-c', online: false, values: [] },
    ], opts);
    expect(t.get('murmur/bridge')).toBe('pi-a');
    expect(t.get('murmur/pi-b.attic/availability')).toBe('online');
    expect(t.get('murmur/pi-c/availability')).toBe('offline');
    expect(t.get('murmur/pi-b.attic/sensor/env/temperature')).toBe('{"v":21.44,"u":"°C","t":1795424497,"i":300}');
    expect(t.get('murmur/pi-b.attic/sensor/wifi/signal')).toBe('{"e":"no wlan0","u":"dBm","t":1795424497,"i":300}');
    expect(t.get('murmur/pi-b.attic/key/app/mode')).toBe('eco');
    expect(t.get('murmur/pi-b.attic/key/app/count')).toBe('3');
    expect([...t.keys()].some((k) => k.includes('other/x'))).toBe(false);
    const temp = JSON.parse(t.get('homeassistant/sensor/murmur_pi-b_attic/env_temperature/config')!);
    expect(temp).toEqual({
      name: 'env temperature',
      unique_id: 'murmur_pi-b_attic_env_temperature',
      object_id: 'pi-b_attic_env_temperature',
      state_topic: 'murmur/pi-b.attic/sensor/env/temperature',
      value_template: "{{ value_json.v if value_json.v is defined else 'None' }}",
      json_attributes_topic: 'murmur/pi-b.attic/sensor/env/temperature',
      unit_of_measurement: '°C',
      device_class: 'temperature',
      state_class: 'measurement',
      availability_topic: 'murmur/pi-b.attic/availability',
      device: { identifiers: ['murmur_pi-b_attic'], name: 'pi-b.attic', manufacturer: 'murmur', model: 'murmur device' },
      origin: { name: 'murmur' },
    });
    expect(JSON.parse(t.get('homeassistant/sensor/murmur_pi-b_attic/env_humidity/config')!)).toMatchObject({ device_class: 'humidity', unit_of_measurement: '%' });
    expect(JSON.parse(t.get('homeassistant/button/murmur_pi-b_attic/identify/config')!)).toMatchObject({ device_class: 'identify', command_topic: 'murmur/pi-b.attic/identify/set', payload_press: 'PRESS' });
    expect(t.has('homeassistant/button/murmur_pi-c/identify/config')).toBe(true);
  });

  it('a device id or key with MQTT wildcards or control characters cannot widen a topic', () => {
    const t = desiredTopics('x', [{ id: 'evil/#', online: true, values: [['app/+/\u0000', 'v']] }], opts);
    for (const topic of t.keys()) expect(topic).not.toMatch(/[+#\u0000]/);
    expect(t.get('murmur/evil__/key/app/_/_')).toBe('v');
  });

  it('no discovery with discoveryPrefix unset; no button without commands', () => {
    const t = desiredTopics('x', [{ id: 'a', online: true, values: [['sensor/env/temperature', '{"v":1,"u":"°C","t":1,"i":300}']] }], { ...opts, discoveryPrefix: undefined });
    expect([...t.keys()].filter((k) => k.startsWith('homeassistant/'))).toEqual([]);
    const u = desiredTopics('x', [{ id: 'a', online: true, values: [] }], { ...opts, commands: false });
    expect([...u.keys()].filter((k) => k.includes('button'))).toEqual([]);
  });

  it('device classes and units Home Assistant accepts', () => {
    expect(haClass('hPa', 'pressure')).toEqual({ deviceClass: 'atmospheric_pressure', unit: 'hPa' });
    expect(haClass('s', 'seconds')).toEqual({ deviceClass: 'duration', unit: 's' });
    expect(haClass('load', 'load1')).toEqual({});
    expect(haClass('%', 'used')).toEqual({ unit: '%' });
  });
});

describe('who bridges', () => {
  const tag = brokerTag('mqtt://10.0.0.5:1883');
  const ready = bridgeValue(tag, 'ready');
  const active = bridgeValue(tag, 'active');
  it('the lowest ready id when none is active; an active one keeps it against a lower newcomer', () => {
    expect(chooseBridge('m', 'ready', tag, [{ id: 'k', status: 'alive', value: ready }, { id: 'z', status: 'alive', value: ready }])).toBe('k');
    expect(chooseBridge('a', 'ready', tag, [{ id: 'k', status: 'alive', value: active }])).toBe('k');
    expect(chooseBridge('a', undefined, tag, [])).toBeUndefined();
  });
  it('dead and left members are out; suspect (or unreliable) ones are not, so a suspicion does not make two bridges', () => {
    expect(chooseBridge('m', 'ready', tag, [{ id: 'k', status: 'dead', value: active }])).toBe('m');
    expect(chooseBridge('m', 'ready', tag, [{ id: 'k', status: 'left', value: active }])).toBe('m');
    expect(chooseBridge('m', 'ready', tag, [{ id: 'k', status: 'suspect', value: active }])).toBe('k');
    expect(chooseBridge('m', 'ready', tag, [{ id: 'k', status: 'unreliable', value: active }])).toBe('k');
  });
  it('two active after a partition heals: the lower keeps it; another broker does not compete', () => {
    expect(chooseBridge('m', 'active', tag, [{ id: 'k', status: 'alive', value: active }])).toBe('k');
    expect(chooseBridge('m', 'ready', tag, [{ id: 'a', status: 'alive', value: bridgeValue(brokerTag('mqtt://other:1883'), 'active') }])).toBe('m');
    // The tag names the broker, not the credentials or the path.
    expect(brokerTag('mqtt://10.0.0.5:1883/x')).toBe(tag);
  });
});
