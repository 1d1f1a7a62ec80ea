// This device's identity in the fleet and what it enforces about others' (runtime/trust):
// its Ed25519 key (created on first start), the admin's certificate when the fleet has an
// admin, the gatekeeper, and revocations.
//
// Revocations spread as key/values: every device that holds one republishes it under its own
// `_murmur/revoked/<fingerprint>` key. So a revocation outlives the device it was applied on,
// reaches devices that were off through ordinary anti-entropy, and a device that joins later
// learns it with everything else. Each copy carries the admin's signature, which is what is
// checked; who relays it does not matter. Revocations are also kept in the state directory, so
// a restart enforces them before the first datagram.

import type { CoreEvent } from '../core/effects.js';
import type { NodeRef } from '../core/messages.js';
import type { MurmurConfig } from '../config/config.js';
import { fingerprint, type SigningKey } from '../trust/ed25519.js';
import type { Gatekeeper } from '../trust/gatekeeper.js';
import type { SecurityOptions } from '../host/assembly.js';
import { loadCertificate, loadOrCreateDeviceKey } from '../trust/device-key.js';
import { verifyCertificate } from '../trust/certificate.js';
import { decodeRevocation, encodeRevocation, parseRevocation, RevocationList, verifyRevocation, type Revocation } from '../trust/revocation.js';
import type { Logger } from '../log/log.js';
import type { StateDir } from './state-dir.js';
import { RESERVED_PREFIX } from '../core/reserved-keys.js';

export { RESERVED_PREFIX };
const REVOKED_PREFIX = `${RESERVED_PREFIX}revoked/`;
const REVOCATIONS_FILE = 'revocations.json';

export class DeviceTrust {
  #gate: Gatekeeper | undefined;
  readonly #revocations: RevocationList | undefined;
  readonly #file: string;
  readonly #log: Logger;
  #publish: ((key: string, value: Uint8Array) => void) | undefined;

  private constructor(
    revocations: RevocationList | undefined,
    file: string,
    readonly key: SigningKey,
    readonly admin: Uint8Array | undefined,
    readonly certificate: Uint8Array | undefined,
    log: Logger,
  ) {
    this.#revocations = revocations;
    this.#file = file;
    this.#log = log;
  }

  /**
   * Load (or create) the device key, and with an admin key, the certificate and revocations.
   * A fleet with an admin refuses to start a device without a valid certificate: it would be
   * ignored by every other device, which is worse than a clear error.
   */
  static open(state: StateDir, self: NodeRef, config: MurmurConfig, log: Logger): DeviceTrust {
    const dk = loadOrCreateDeviceKey(state.dir);
    if (dk.created) log.log('info', 'device-key-created', { file: state.path('device-key.json'), fingerprint: fingerprint(dk.key.publicKey) });
    if (dk.modeFixed) log.log('warn', 'device-key-mode-fixed', { file: state.path('device-key.json'), mode: '0600' });
    const adminText = config.security.adminPublicKey;
    const admin = adminText === undefined ? undefined : new Uint8Array(Buffer.from(adminText, 'base64'));
    let certificate: Uint8Array | undefined;
    let revocations: RevocationList | undefined;
    if (admin) {
      const cert = loadCertificate(state.dir);
      const certFile = state.path('certificate.json');
      const fix = `run "murmur admin provision" (or "murmur admin sign" for public key ${Buffer.from(dk.key.publicKey).toString('base64')}) and put the result in ${certFile}`;
      if (!cert) throw new Error(`security.adminPublicKey is set but ${certFile} is missing: ${fix}`);
      if (cert.id !== self.id) throw new Error(`${certFile}: issued for "${cert.id}", this device is "${self.id}": ${fix}`);
      if (Buffer.compare(cert.publicKey, dk.key.publicKey) !== 0) throw new Error(`${certFile}: issued for another public key than ${state.path('device-key.json')}: ${fix}`);
      if (!verifyCertificate(cert, admin)) throw new Error(`${certFile}: not signed by security.adminPublicKey ${fingerprint(admin)}: ${fix}`);
      certificate = cert.signature;
      revocations = RevocationList.load(state.path(REVOCATIONS_FILE), admin, (problem) => log.log('warn', 'revocations-file', { problem }));
    }
    return new DeviceTrust(revocations, state.path(REVOCATIONS_FILE), dk.key, admin, certificate, log);
  }

  /** What the assembly builds this device's gatekeeper from (runtime/host/assembly.ts). */
  material(): Omit<SecurityOptions, 'keyring'> {
    const list = this.#revocations;
    return {
      deviceKey: this.key,
      certificate: this.certificate,
      adminPublicKey: this.admin,
      ...(list ? { isRevoked: (k: Uint8Array) => list.isRevoked(k) } : {}),
    };
  }

  /** The gatekeeper the assembly built from `material()`; revocations act on it. */
  guard(gate: Gatekeeper): void {
    this.#gate = gate;
  }

  get gate(): Gatekeeper {
    if (!this.#gate) throw new Error('device trust: no gatekeeper yet (guard() is called when the node is assembled)');
    return this.#gate;
  }

  get fingerprint(): string {
    return fingerprint(this.key.publicKey);
  }

  /** Start republishing revocations through `publish` (the node's own key/values). */
  attach(publish: (key: string, value: Uint8Array) => void): void {
    this.#publish = publish;
    for (const r of this.#revocations?.all() ?? []) publish(REVOKED_PREFIX + fingerprint(r.publicKey), encodeRevocation(r));
  }

  /** A revocation from the local API (JSON, as `murmur admin revoke` prints it). */
  applyJson(text: string): { fingerprint: string; new: boolean } {
    if (!this.#revocations) throw new Error('revocations need security.adminPublicKey: without a fleet admin there is no one to sign them');
    const r = parseRevocation(text, 'revocation');
    if (!verifyRevocation(r, this.admin!)) throw new Error(`revocation: not signed by security.adminPublicKey ${fingerprint(this.admin!)}`);
    const isNew = this.#apply(r, 'api');
    return { fingerprint: fingerprint(r.publicKey), new: isNew };
  }

  /** Watch gossiped state for revocations other devices republish. */
  observe(e: CoreEvent, selfId: string): void {
    if (e.type !== 'kv-changed' || !this.#revocations || e.owner.id === selfId) return;
    if (!e.key.startsWith(REVOKED_PREFIX) || !(e.value instanceof Uint8Array)) return;
    const r = decodeRevocation(e.value);
    if (r) this.#apply(r, e.owner.id);
  }

  #apply(r: Revocation, via: string): boolean {
    const list = this.#revocations!;
    if (list.isRevoked(r.publicKey) || !list.add(r)) return false;
    try {
      list.save(this.#file);
    } catch (e) {
      this.#log.log('error', 'revocations-not-saved', { file: this.#file, error: (e as Error).message });
    }
    const ids = this.gate.revoke(r.publicKey);
    if (Buffer.compare(r.publicKey, this.key.publicKey) === 0) {
      // Every other device now ignores this one; say so where an operator will look.
      this.#log.log('error', 'this-device-revoked', { fingerprint: this.fingerprint, reason: r.reason, meaning: 'the fleet admin revoked this device: other devices ignore it' });
    }
    this.#log.log('warn', 'device-revoked', { fingerprint: fingerprint(r.publicKey), members: ids.join(',') || undefined, reason: r.reason, via });
    this.#publish?.(REVOKED_PREFIX + fingerprint(r.publicKey), encodeRevocation(r));
    return true;
  }

  revocations(): unknown[] {
    return (this.#revocations?.all() ?? []).map((r) => ({ fingerprint: fingerprint(r.publicKey), at: new Date(r.at).toISOString(), reason: r.reason }));
  }
}
