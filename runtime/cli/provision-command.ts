// `murmur provision`: the files that turn a freshly flashed SD card into a fleet member. For
// each device in a names list it writes DIR/<name>/ holding what goes on the boot partition
// (/boot/firmware): murmur.yaml with the device's name, the shared fleet key, and with an
// admin key a state directory holding the device's identity key and certificate. At first
// boot, murmur-firstboot.service moves them into /etc/murmur and /var/lib/murmur.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateFleetKey, parseFleetKey } from '../agent/keyring-store.js';
import { loadConfig } from '../config/config.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { loadAdminKey } from '../trust/admin-key.js';
import type { SigningKey } from '../trust/ed25519.js';
import { NODE_ID_RULE, certificateToJson, nodeIdProblem, signCertificate } from '../trust/certificate.js';
import { CERTIFICATE_FILE, loadOrCreateDeviceKey } from '../trust/device-key.js';
import { toBase64 } from '../trust/json-form.js';
import { CliError, type CliIo } from './io.js';

/** Where the installed package looks for the files; firstboot.sh moves them there. */
export const INSTALLED_FLEET_KEY = '/etc/murmur/fleet.key';
/** The names of the files in each device's folder, as they go onto the boot partition. */
export const BOOT_FILES = { config: 'murmur.yaml', fleetKey: 'fleet.key', state: 'murmur-state' } as const;

export const provisionHelp = `usage: murmur provision --names FILE --out DIR [options]

Writes the files for flashing a fleet. FILE lists one device name per line
(blank lines and lines starting with # are skipped). For each NAME, DIR/NAME/
holds what goes on the SD card's boot partition (/boot/firmware):
  ${BOOT_FILES.config}     node.name NAME, the fleet key file, the admin key, and
                  api.group murmur (the package's group)
  ${BOOT_FILES.fleetKey}       the fleet key, shared by every device (mode 0600)
  ${BOOT_FILES.state}/   with --admin-key: the device's identity key and its
                  certificate, so it is admitted from its first start
At first boot the murmur package moves them into /etc/murmur and
/var/lib/murmur and deletes them from the boot partition.

options:
  --names FILE       device names: ${NODE_ID_RULE}
  --out DIR          output folder; DIR/fleet.key keeps the fleet key
  --fleet-key FILE   the fleet's key (default: DIR/fleet.key, made if absent)
  --admin-key FILE   sign a certificate for each device (murmur admin init)
  --fleet NAME       node.fleet, the fleet's name shown in status
  --seed ADDR        network.seeds; repeat for several`;

interface Options {
  names: string | undefined;
  out: string | undefined;
  fleetKey: string | undefined;
  adminKey: string | undefined;
  fleet: string | undefined;
  seeds: string[];
}

function parse(args: readonly string[]): Options {
  const o: Options = { names: undefined, out: undefined, fleetKey: undefined, adminKey: undefined, fleet: undefined, seeds: [] };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    if (flag === '-h' || flag === '--help') throw new CliError(provisionHelp, 0);
    const v = args[++i];
    const known = ['--names', '--out', '--fleet-key', '--admin-key', '--fleet', '--seed'];
    if (!known.includes(flag)) throw new CliError(`murmur provision: unknown option "${flag}"\n\n${provisionHelp}`);
    if (v === undefined || v.startsWith('--')) throw new CliError(`${flag}: expected a value\n\n${provisionHelp}`);
    if (flag === '--seed') o.seeds.push(v);
    else {
      const key = ({ '--names': 'names', '--out': 'out', '--fleet-key': 'fleetKey', '--admin-key': 'adminKey', '--fleet': 'fleet' } as const)[flag as '--names'];
      if (o[key] !== undefined) throw new CliError(`${flag}: given twice`);
      o[key] = v;
    }
  }
  return o;
}

/** The names in `text`, or every problem with them at once (line numbers are the file's). */
export function parseNames(text: string, file: string): string[] {
  const names: string[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const name = raw.trim();
    if (name === '' || name.startsWith('#')) return;
    const line = i + 1;
    const problem = nodeIdProblem(name);
    if (problem) problems.push(`${file}:${line}: expected a device name (${problem}), got ${JSON.stringify(name)}`);
    else if (seen.has(name)) problems.push(`${file}:${line}: "${name}" is already on line ${seen.get(name)}`);
    else {
      seen.set(name, line);
      names.push(name);
    }
  });
  if (problems.length > 0) throw new CliError(problems.join('\n'), 1);
  if (names.length === 0) throw new CliError(`${file}: lists no device names (one per line)`, 1);
  return names;
}

export function provisionCommand(args: readonly string[], io: CliIo): number {
  const o = parse(args);
  if (o.names === undefined) throw new CliError(`murmur provision: --names is required\n\n${provisionHelp}`);
  if (o.out === undefined) throw new CliError(`murmur provision: --out is required\n\n${provisionHelp}`);
  const out = o.out;
  let namesText: string;
  try {
    namesText = readFileSync(o.names, 'utf8');
  } catch (e) {
    throw new CliError(`--names ${o.names}: cannot read: ${(e as Error).message}`, 1);
  }
  const names = parseNames(namesText, o.names);
  const taken = names.filter((n) => existsSync(join(out, n)));
  if (taken.length > 0) {
    throw new CliError(`${out}: already holds ${taken.map((n) => `${n}/`).join(', ')}; flash those from there, or remove them to provision afresh`, 1);
  }
  let admin: SigningKey | undefined;
  try {
    admin = o.adminKey === undefined ? undefined : loadAdminKey(o.adminKey);
  } catch (e) {
    throw new CliError(`murmur provision: ${(e as Error).message}`, 1);
  }
  mkdirSync(out, { recursive: true });
  const fleetKey = fleetKeyText(o.fleetKey, out, io);

  for (const name of names) {
    const dir = join(out, name);
    mkdirSync(dir, { mode: 0o700 });
    const config: Record<string, unknown> = {
      node: { name, ...(o.fleet === undefined ? {} : { fleet: o.fleet }) },
      ...(o.seeds.length === 0 ? {} : { network: { seeds: o.seeds } }),
      security: { fleetKeyFile: INSTALLED_FLEET_KEY, ...(admin === undefined ? {} : { adminPublicKey: toBase64(admin.publicKey) }) },
      // The package's group: its members use the CLI on the device without sudo.
      api: { group: 'murmur' },
    };
    const configFile = join(dir, BOOT_FILES.config);
    writeFileAtomic(configFile, `# murmur device config, written by murmur provision\n${stringify(config)}`, 0o644);
    try {
      // A file a device cannot start with should fail here, at the desk, not on a Pi in the field.
      loadConfig(configFile);
    } catch (e) {
      throw new CliError(`murmur provision: ${(e as Error).message}`, 1);
    }
    writeFileAtomic(join(dir, BOOT_FILES.fleetKey), fleetKey + '\n', 0o600);
    let certified = '';
    if (admin !== undefined) {
      const state = join(dir, BOOT_FILES.state);
      const { key } = loadOrCreateDeviceKey(state);
      writeFileAtomic(join(state, 'identity.json'), JSON.stringify({ id: name }) + '\n');
      writeFileAtomic(join(state, CERTIFICATE_FILE), certificateToJson(signCertificate(name, key.publicKey, admin.secretKey)) + '\n');
      certified = ', certified';
    }
    io.out(`${dir}/  ${name}${certified}`);
  }
  io.out(`${names.length} device${names.length === 1 ? '' : 's'} provisioned. Copy the files in each DIR/NAME/ onto that card's boot partition`);
  io.out('(/boot/firmware); the murmur package moves them into place at first boot.');
  return 0;
}

/** The fleet key: from --fleet-key, else DIR/fleet.key, else a new one written there. */
function fleetKeyText(file: string | undefined, out: string, io: CliIo): string {
  const shared = join(out, BOOT_FILES.fleetKey);
  const source = file ?? (existsSync(shared) ? shared : undefined);
  if (source === undefined) {
    const key = generateFleetKey();
    writeFileAtomic(shared, key + '\n', 0o600);
    io.out(`new fleet key written to ${shared} (mode 0600): keep it, every device of this fleet needs it`);
    return key;
  }
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new CliError(`fleet key ${source}: cannot read: ${(e as Error).message}`, 1);
  }
  try {
    return toBase64(parseFleetKey(text, `fleet key ${source}`));
  } catch (e) {
    throw new CliError((e as Error).message, 1);
  }
}
