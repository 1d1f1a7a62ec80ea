// The device's Ed25519 identity key and its certificate, kept in the state directory. The key
// is created on first start and then never replaced by murmur itself: a device that quietly
// made itself a new key would lose its certificate and look like a stranger to the fleet, so a
// damaged key file stops the device with instructions instead.

import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { generateSigningKey, type SigningKey } from './ed25519.js';
import { parseCertificate, type Certificate } from './certificate.js';
import { keyFileText, readKeyFile } from './key-file.js';

export const DEVICE_KEY_FILE = 'device-key.json';
export const CERTIFICATE_FILE = 'certificate.json';
export const DEVICE_KEY_TYPE = 'murmur-device-key';

export interface DeviceKey {
  readonly key: SigningKey;
  /** True when this call generated the key (first start). */
  readonly created: boolean;
  /** True when the file was readable by group or others and has been restricted to 0600. */
  readonly modeFixed: boolean;
}

/** Create the device key on first start, or load it. Throws, naming the file and the remedy, if it is damaged. */
export function loadOrCreateDeviceKey(stateDir: string): DeviceKey {
  const loaded = loadDeviceKey(stateDir);
  if (loaded) return { ...loaded, created: false };
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new Error(`state directory ${stateDir}: ${(e as Error).message}`);
  }
  const key = generateSigningKey();
  writeFileAtomic(join(stateDir, DEVICE_KEY_FILE), keyFileText(DEVICE_KEY_TYPE, key), 0o600);
  return { key, created: true, modeFixed: false };
}

/** The device key if the file exists (undefined if not); throws like loadOrCreateDeviceKey if it is damaged. */
export function loadDeviceKey(stateDir: string): { key: SigningKey; modeFixed: boolean } | undefined {
  const file = join(stateDir, DEVICE_KEY_FILE);
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  // Restrict before reading, so the secret is exposed for no longer than it has to be.
  const modeFixed = (mode & 0o077) !== 0;
  if (modeFixed) {
    try {
      chmodSync(file, 0o600);
    } catch (e) {
      throw new Error(`${file}: the device's secret key is readable by others (mode 0${mode.toString(8)}) and could not be restricted (${(e as Error).message}); run chmod 600 ${file}`);
    }
  }
  try {
    return { key: readKeyFile(file, DEVICE_KEY_TYPE), modeFixed };
  } catch (e) {
    throw new Error(
      `${(e as Error).message}. This is the device's identity key and murmur will not replace it on its own: ` +
        `restore the file from a backup, or delete it to give the device a new identity ` +
        `(it then needs a new certificate: murmur admin provision, or murmur admin sign)`,
    );
  }
}

/** The certificate in the state directory, or undefined if there is none. Throws, naming the file, if it is damaged. */
export function loadCertificate(stateDir: string): Certificate | undefined {
  const file = join(stateDir, CERTIFICATE_FILE);
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  return parseCertificate(text, file);
}
