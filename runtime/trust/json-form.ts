// The JSON file forms of trust records (certificates, revocations, key files). Operators copy
// these between machines by hand, so a damaged one must say which file and which field is
// wrong, and what it expected: "cert.json: publicKey: expected 32 bytes of base64, got 12".

export class FormError extends Error {}

/** Parse `text` as a JSON object whose "type" is `type`. Throws FormError naming `source`. */
export function parseForm(text: string, source: string, type: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FormError(`${source}: not JSON (${(e as Error).message})`);
  }
  return checkForm(j, source, type);
}

/** The same checks on an already parsed value, e.g. one entry of a list file. */
export function checkForm(j: unknown, source: string, type: string): Record<string, unknown> {
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new FormError(`${source}: expected a JSON object with "type": "${type}"`);
  const o = j as Record<string, unknown>;
  if (o.type !== type) throw new FormError(`${source}: type: expected "${type}", got ${show(o.type)}`);
  return o;
}

// Buffer.from(s, 'base64') skips characters it does not know, so a mangled paste would
// decode to some other key without complaint. Accept canonical base64 only.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 of exactly `bytes` bytes; the error names `where` (e.g. "cert.json: publicKey"). */
export function base64Bytes(value: unknown, where: string, bytes: number): Uint8Array {
  if (typeof value !== 'string') throw new FormError(`${where}: expected ${bytes} bytes of base64, got ${show(value)}`);
  const s = value.trim();
  if (!BASE64.test(s)) throw new FormError(`${where}: expected ${bytes} bytes of base64, got ${show(value)} (not base64)`);
  const out = new Uint8Array(Buffer.from(s, 'base64'));
  if (out.length !== bytes) throw new FormError(`${where}: expected ${bytes} bytes of base64, got ${out.length}`);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export function stringField(o: Record<string, unknown>, field: string, source: string, check: (s: string) => string | undefined): string {
  const v = o[field];
  if (typeof v !== 'string') throw new FormError(`${source}: ${field}: expected a string, got ${show(v)}`);
  const problem = check(v);
  if (problem) throw new FormError(`${source}: ${field}: expected ${problem}, got ${show(v)}`);
  return v;
}

/** A short rendering of a bad value for an error message: never a whole pasted file. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
