// Turns a decoded CBOR array into a typed message, checking every field. The error names the
// message type and the field path, e.g. "Digest.entries[3].gen: expected a non-negative
// integer, got -1", so a rejected datagram in the log says what was wrong with it.

import {
  MsgType,
  ReplyStatus,
  StatusCode,
  type DigestEntry,
  type KvEntry,
  type WireStatus,
  type Message,
  type NodeRef,
  type Value,
} from '../core/messages.js';
import { MAX_QUERY_NAME, MAX_QUERY_PAYLOAD, MAX_QUERY_TIMEOUT_MS, MAX_REPLY_BODY, MIN_QUERY_TIMEOUT_MS } from '../core/queries.js';
import { MAX_ADDR_LENGTH, MAX_ENTRIES, MAX_ID_LENGTH, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, MAX_WHOIS_IDS, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './limits.js';

export class FieldError extends Error {}
export class UnknownTypeError extends Error {}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MsgType).map(([k, v]) => [v, k]));
const REPLY_STATUS_BY_CODE = Object.fromEntries(Object.entries(ReplyStatus).map(([k, v]) => [v, k])) as Record<number, ReplyStatus>;
const STATUS_BY_CODE = Object.fromEntries(Object.entries(StatusCode).map(([k, v]) => [v, k])) as Record<number, WireStatus>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return `${typeof v} ${String(v)}`;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new FieldError(`${path}: expected ${expected}, got ${describe(got)}`);
}

function uint(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(path, 'a non-negative integer', v);
  return v;
}

function str(v: unknown, path: string, max: number, allowEmpty = false): string {
  if (typeof v !== 'string') fail(path, 'a string', v);
  if (!allowEmpty && v.length === 0) fail(path, 'a non-empty string', v);
  if (v.length > max) fail(path, `at most ${max} characters`, v);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'a boolean', v);
  return v;
}

function arr(v: unknown, path: string, min: number, max = Infinity): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array', v);
  if (v.length < min) fail(path, `an array of at least ${min} items`, v);
  if (v.length > max) fail(path, `an array of at most ${max} items`, v);
  return v;
}

function ref(v: unknown, path: string): NodeRef {
  const a = arr(v, path, 2);
  return { id: str(a[0], `${path}.id`, MAX_ID_LENGTH), gen: uint(a[1], `${path}.gen`) };
}

function value(v: unknown, path: string): Value | null {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(path, 'a finite number', v);
    return v;
  }
  if (typeof v === 'string') return str(v, path, MAX_VALUE_LENGTH, true);
  if (v instanceof Uint8Array) {
    if (v.length > MAX_VALUE_LENGTH) fail(path, `at most ${MAX_VALUE_LENGTH} bytes`, v);
    // Copy out of the datagram buffer: a value may outlive it by hours.
    return Uint8Array.from(v);
  }
  return fail(path, 'a string, number, boolean, bytes or null', v);
}

function digestEntry(v: unknown, path: string): DigestEntry {
  const a = arr(v, path, 7);
  const code = uint(a[3], `${path}.status`);
  const status = STATUS_BY_CODE[code];
  if (status === undefined) fail(`${path}.status`, 'a status code 0-3', a[3]);
  return {
    id: str(a[0], `${path}.id`, MAX_ID_LENGTH),
    gen: uint(a[1], `${path}.gen`),
    inc: uint(a[2], `${path}.inc`),
    status,
    hb: uint(a[4], `${path}.hb`),
    kvMax: uint(a[5], `${path}.kvMax`),
    addr: str(a[6], `${path}.addr`, MAX_ADDR_LENGTH),
  };
}

function kvEntry(v: unknown, path: string): KvEntry {
  const a = arr(v, path, 4);
  const e = {
    key: str(a[0], `${path}.key`, MAX_KEY_LENGTH),
    version: uint(a[1], `${path}.version`),
    value: value(a[2], `${path}.value`),
    ttlMs: uint(a[3], `${path}.ttlMs`),
  };
  return a.length > 4 ? { ...e, sig: bytes(a[4], `${path}.sig`, SIGNATURE_BYTES) } : e;
}

/** At most `max` bytes, copied out of the datagram buffer (a query's payload outlives it). */
function blob(v: unknown, path: string, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(path, 'bytes', v);
  if (v.length > max) fail(path, `at most ${max} bytes`, v);
  return Uint8Array.from(v);
}

/** Exactly `n` bytes, copied out of the datagram buffer (signatures and keys outlive it). */
function bytes(v: unknown, path: string, n: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== n) fail(path, `${n} bytes`, v);
  return Uint8Array.from(v);
}

/** Validate one decoded message. Throws FieldError or UnknownTypeError. */
export function toMessage(v: unknown): Message {
  if (!Array.isArray(v) || v.length === 0) fail('message', 'an array starting with a type number', v);
  const type = v[0];
  if (typeof type !== 'number' || !Number.isSafeInteger(type)) fail('message.type', 'an integer', type);
  const name = TYPE_NAMES[type];
  if (name === undefined) throw new UnknownTypeError(`message type ${type} is not known to wire version 1`);
  // Trailing fields from newer versions are ignored; missing ones are errors.
  const need = (n: number): void => {
    if (v.length < n) fail(name, `at least ${n} fields`, v);
  };
  switch (type) {
    case MsgType.Heartbeat:
      need(7);
      return {
        type,
        from: ref(v[1], `${name}.from`),
        inc: uint(v[2], `${name}.inc`),
        seq: uint(v[3], `${name}.seq`),
        intervalMs: uint(v[4], `${name}.intervalMs`),
        kvMax: uint(v[5], `${name}.kvMax`),
        view: (() => {
          const x = uint(v[6], `${name}.view`);
          if (x > 0xffffffff) fail(`${name}.view`, 'a 32-bit unsigned integer', x);
          return x;
        })(),
        ...(v[7] === 1 ? { unicastMe: true } : {}),
      };
    case MsgType.Ping:
      need(4);
      return { type, from: ref(v[1], `${name}.from`), target: ref(v[2], `${name}.target`), probe: uint(v[3], `${name}.probe`) };
    case MsgType.Ack:
      need(4);
      return { type, from: ref(v[1], `${name}.from`), probe: uint(v[2], `${name}.probe`), inc: uint(v[3], `${name}.inc`) };
    case MsgType.PingReq:
      need(5);
      return {
        type,
        from: ref(v[1], `${name}.from`),
        target: ref(v[2], `${name}.target`),
        targetAddr: str(v[3], `${name}.targetAddr`, MAX_ADDR_LENGTH),
        probe: uint(v[4], `${name}.probe`),
      };
    case MsgType.Suspect:
    case MsgType.Dead: {
      need(4);
      const a = { type, from: ref(v[1], `${name}.from`), target: ref(v[2], `${name}.target`), inc: uint(v[3], `${name}.inc`) };
      return v.length > 4 ? { ...a, sig: bytes(v[4], `${name}.sig`, SIGNATURE_BYTES) } : a;
    }
    case MsgType.Leave:
      need(3);
      return { type, from: ref(v[1], `${name}.from`), inc: uint(v[2], `${name}.inc`) };
    case MsgType.Digest: {
      need(6);
      const entries = arr(v[5], `${name}.entries`, 0, MAX_ENTRIES).map((e, i) => digestEntry(e, `${name}.entries[${i}]`));
      return {
        type,
        from: ref(v[1], `${name}.from`),
        lo: str(v[2], `${name}.lo`, MAX_ID_LENGTH),
        hi: str(v[3], `${name}.hi`, MAX_ID_LENGTH),
        reply: bool(v[4], `${name}.reply`),
        entries,
      };
    }
    case MsgType.Delta: {
      need(7);
      const fromV = uint(v[3], `${name}.fromV`);
      const toV = uint(v[4], `${name}.toV`);
      if (toV < fromV) fail(`${name}.toV`, `at least fromV (${fromV})`, toV);
      const entries = arr(v[6], `${name}.entries`, 0, MAX_ENTRIES).map((e, i) => kvEntry(e, `${name}.entries[${i}]`));
      for (const [i, e] of entries.entries()) {
        if (e.version <= fromV || e.version > toV) fail(`${name}.entries[${i}].version`, `within (${fromV}, ${toV}]`, e.version);
      }
      return {
        type,
        from: ref(v[1], `${name}.from`),
        owner: ref(v[2], `${name}.owner`),
        fromV,
        toV,
        reset: bool(v[5], `${name}.reset`),
        entries,
      };
    }
    case MsgType.Passport:
      need(8);
      return {
        type,
        id: str(v[1], `${name}.id`, MAX_ID_LENGTH),
        gen: uint(v[2], `${name}.gen`),
        inc: uint(v[3], `${name}.inc`),
        left: bool(v[4], `${name}.left`),
        publicKey: bytes(v[5], `${name}.publicKey`, PUBLIC_KEY_BYTES),
        cert: v[6] === null ? null : bytes(v[6], `${name}.cert`, SIGNATURE_BYTES),
        sig: bytes(v[7], `${name}.sig`, SIGNATURE_BYTES),
      };
    case MsgType.WhoIs: {
      need(3);
      const ids = arr(v[2], `${name}.ids`, 1, MAX_WHOIS_IDS).map((x, i) => str(x, `${name}.ids[${i}]`, MAX_ID_LENGTH));
      return { type, from: ref(v[1], `${name}.from`), ids };
    }
    case MsgType.Query: {
      need(7);
      const timeoutMs = uint(v[6], `${name}.timeoutMs`);
      if (timeoutMs < MIN_QUERY_TIMEOUT_MS || timeoutMs > MAX_QUERY_TIMEOUT_MS) fail(`${name}.timeoutMs`, `${MIN_QUERY_TIMEOUT_MS} to ${MAX_QUERY_TIMEOUT_MS}`, timeoutMs);
      const q = {
        type,
        from: ref(v[1], `${name}.from`),
        qid: uint(v[2], `${name}.qid`),
        name: str(v[3], `${name}.name`, MAX_QUERY_NAME),
        payload: blob(v[4], `${name}.payload`, MAX_QUERY_PAYLOAD),
        prefix: str(v[5], `${name}.prefix`, MAX_QUERY_NAME, true),
        timeoutMs,
      };
      return v.length > 7 ? { ...q, sig: bytes(v[7], `${name}.sig`, SIGNATURE_BYTES) } : q;
    }
    case MsgType.QueryReply: {
      need(6);
      const code = uint(v[4], `${name}.status`);
      const status = REPLY_STATUS_BY_CODE[code];
      if (status === undefined) fail(`${name}.status`, 'a reply status code 0-2', v[4]);
      const r = {
        type,
        from: ref(v[1], `${name}.from`),
        asker: ref(v[2], `${name}.asker`),
        qid: uint(v[3], `${name}.qid`),
        status,
        body: blob(v[5], `${name}.body`, MAX_REPLY_BODY),
      };
      return v.length > 6 ? { ...r, sig: bytes(v[6], `${name}.sig`, SIGNATURE_BYTES) } : r;
    }
    default:
      throw new UnknownTypeError(`message type ${type} is not known to wire version 1`);
  }
}
