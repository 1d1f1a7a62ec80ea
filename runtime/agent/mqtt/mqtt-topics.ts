// What the bridge keeps on the broker, as one map of retained topic -> payload, computed from the
// fleet as this node sees it. The bridge publishes the difference from what it last published,
// so a whole republish (after a reconnect, or by a new bridge) and a single reading change are
// the same code.
//
//   <prefix>/bridge                               the device bridging now
//   <prefix>/<device>/availability                "online" or "offline" (dead, left or unreliable)
//   <prefix>/<device>/sensor/<sensor>/<quantity>  {"v":21.4,"u":"°C","t":1795424497,"i":300} or {"e":...}
//   <prefix>/<device>/key/<key>                   a chosen key's value as text (bytes as base64)
//   <discovery>/sensor/murmur_<device>/<sensor>_<quantity>/config   Home Assistant discovery
//   <discovery>/button/murmur_<device>/identify/config              with mqtt.commands only

import { decodeReading, parseSensorKey, SENSOR_PREFIX } from '../../sensing/reading.js';

export interface FleetDevice {
  readonly id: string;
  /** Whether murmur counts it as up (alive or suspect; this device always). */
  readonly online: boolean;
  readonly values: Iterable<readonly [string, unknown]>;
}

export interface TopicOptions {
  readonly topicPrefix: string;
  readonly discoveryPrefix: string | undefined;
  readonly keys: readonly string[];
  readonly commands: boolean;
}

export const IDENTIFY_SET = 'identify/set';
export const AVAILABILITY = 'availability';

/** A device id or key as topic levels: no wildcards and no control characters (a peer chose them). */
export function topicSafe(s: string): string {
  return s.replace(/[+#\u0000-\u001f\u007f-\u009f]/g, '_');
}

/** Home Assistant's node and object ids allow letters, digits, "_" and "-" only. */
function haId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function deviceTopic(o: TopicOptions, device: string): string {
  return `${o.topicPrefix}/${topicSafe(device).replace(/\//g, '_')}`;
}

export function bridgeTopic(o: TopicOptions): string {
  return `${o.topicPrefix}/bridge`;
}

export function desiredTopics(bridge: string, devices: Iterable<FleetDevice>, o: TopicOptions): Map<string, string> {
  const out = new Map<string, string>();
  out.set(bridgeTopic(o), bridge);
  for (const d of devices) for (const [t, p] of deviceTopics(d, o)) out.set(t, p);
  return out;
}

/**
 * Discovery payloads already built, by device, key and unit: they change only with those, and
 * building them is most of the cost of a pass over a large fleet.
 */
export class DiscoveryCache {
  readonly #m = new Map<string, string>();

  get(k: string, build: () => string): string {
    let v = this.#m.get(k);
    if (v === undefined) {
      // Bounded: a fleet that churns through ids or units starts afresh rather than growing.
      if (this.#m.size >= 20_000) this.#m.clear();
      v = build();
      this.#m.set(k, v);
    }
    return v;
  }
}

/** One device's topics and payloads. */
export function deviceTopics(d: FleetDevice, o: TopicOptions, cache: DiscoveryCache = new DiscoveryCache()): Map<string, string> {
  const out = new Map<string, string>();
  const base = deviceTopic(o, d.id);
  const availability = `${base}/${AVAILABILITY}`;
  out.set(availability, d.online ? 'online' : 'offline');
  const device = { identifiers: [`murmur_${haId(d.id)}`], name: d.id, manufacturer: 'murmur', model: 'murmur device' };
  const node = `murmur_${haId(d.id)}`;
  for (const [key, value] of d.values) {
    if (key.startsWith(SENSOR_PREFIX)) {
      const sk = parseSensorKey(key);
      const r = sk && decodeReading(value);
      if (!sk || !r) continue;
      const state = `${base}/sensor/${sk.sensor}/${sk.quantity}`;
      out.set(state, JSON.stringify(r.ok ? { v: r.value, u: r.unit, t: r.t, i: r.i } : { e: r.error, u: r.unit, t: r.t, i: r.i }));
      if (o.discoveryPrefix !== undefined) {
        const object = haId(`${sk.sensor}_${sk.quantity}`);
        const cls = haClass(r.unit, sk.quantity);
        out.set(
          `${o.discoveryPrefix}/sensor/${node}/${object}/config`,
          cache.get(`${d.id}\n${key}\n${r.unit}`, () => JSON.stringify({
            name: `${sk.sensor} ${sk.quantity}`,
            unique_id: `${node}_${object}`,
            object_id: `${haId(d.id)}_${object}`,
            state_topic: state,
            // An error reading has no v: "None" is Home Assistant's "unknown".
            value_template: "{{ value_json.v if value_json.v is defined else 'None' }}",
            json_attributes_topic: state,
            ...(cls.unit !== undefined ? { unit_of_measurement: cls.unit } : {}),
            ...(cls.deviceClass !== undefined ? { device_class: cls.deviceClass } : {}),
            state_class: 'measurement',
            availability_topic: availability,
            device,
            origin: { name: 'murmur' },
          })),
        );
      }
    } else if (o.keys.some((p) => key.startsWith(p))) {
      out.set(`${base}/key/${topicSafe(key)}`, valueText(value));
    }
  }
  if (o.commands && o.discoveryPrefix !== undefined) {
    out.set(
      `${o.discoveryPrefix}/button/${node}/identify/config`,
      cache.get(`${d.id}\nidentify`, () => JSON.stringify({
        name: 'identify',
        unique_id: `${node}_identify`,
        object_id: `${haId(d.id)}_identify`,
        device_class: 'identify',
        command_topic: `${base}/${IDENTIFY_SET}`,
        payload_press: 'PRESS',
        availability_topic: availability,
        device,
        origin: { name: 'murmur' },
      })),
    );
  }
  return out;
}

/** Home Assistant's device class and unit for a murmur unit (and quantity, where the unit alone is ambiguous). */
export function haClass(unit: string, quantity: string): { deviceClass?: string; unit?: string } {
  switch (unit) {
    case '°C':
      return { deviceClass: 'temperature', unit: '°C' };
    case '%RH':
      return { deviceClass: 'humidity', unit: '%' };
    case 'hPa':
      return { deviceClass: 'atmospheric_pressure', unit: 'hPa' };
    case 'dBm':
      return { deviceClass: 'signal_strength', unit: 'dBm' };
    case 'MB':
      return { deviceClass: 'data_size', unit: 'MB' };
    case 's':
      return quantity === 'seconds' ? { deviceClass: 'duration', unit: 's' } : { unit: 's' };
    case 'V':
      return { deviceClass: 'voltage', unit: 'V' };
    case 'W':
      return { deviceClass: 'power', unit: 'W' };
    case '':
    case 'bool':
    case 'load':
      return {};
    default:
      return { unit };
  }
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return JSON.stringify(v) ?? '';
}
