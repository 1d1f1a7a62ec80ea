// What `murmur config show` and config errors never print. Key material lives in files and the
// config holds only their paths (security.fleetKeyFile), which are shown; the admin's public key
// is public and shown. No field holds a secret value today, so the rule is by name: a field
// added later whose name says it is a secret (fleetKey, token, password, privateKey...) is
// hidden without anyone having to remember to list it here.

const SECRET_NAME = /^(?:key|fleetKey|privateKey|secret|.*(?:Secret|Password|Passphrase|Token|PrivateKey))$/i;

export const HIDDEN = '(hidden)';

/** Whether the field at `path` ("security.fleetKey", "hal.sensors[0].token") holds a secret. */
export function isSecretField(path: string): boolean {
  const last = /([^.[\]]+)(?:\[\d+\])*$/.exec(path)?.[1] ?? '';
  return SECRET_NAME.test(last);
}

/** A fleet key or private key pasted where a path was meant: 32 bytes in base64. */
export function looksLikeKey(v: string): boolean {
  return /^[A-Za-z0-9+/]{43}=?$/.test(v) && Buffer.from(v, 'base64').length === 32;
}

/** A deep copy of `value` with the value of every secret field replaced by HIDDEN. */
export function hideSecrets(value: unknown, path = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => hideSecrets(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      out[k] = isSecretField(p) && v !== undefined && v !== null ? HIDDEN : hideSecrets(v, p);
    }
    return out;
  }
  return value;
}
