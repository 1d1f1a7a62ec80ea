// `murmur admin`: the fleet admin's tools. They run on the admin's machine (or the one that
// flashes SD cards), never on a running node: they need the admin key file, which stays offline.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { createAdminKeyFile, loadAdminKey, parsePublicKey } from '../trust/admin-key.js';
import { NODE_ID_RULE, certificateToJson, nodeIdProblem, signCertificate } from '../trust/certificate.js';
import { CERTIFICATE_FILE, loadCertificate, loadDeviceKey, loadOrCreateDeviceKey } from '../trust/device-key.js';
import { fingerprint } from '../trust/ed25519.js';
import { toBase64 } from '../trust/json-form.js';
import { MAX_REASON_BYTES, parseRevocation, revocationToJson, signRevocation } from '../trust/revocation.js';
import { apiRequest, check, resolveTarget } from './api-client.js';
import { CliError, type CliIo } from './io.js';
import { didYouMean } from './suggest.js';

const IDENTITY_FILE = 'identity.json';

export const adminHelp = `usage: murmur admin <subcommand> [options]

The fleet admin key admits devices (it signs their certificates) and shuts them
out (it signs revocations). Devices know only its public half, from
security.adminPublicKey in their config.

subcommands:
  init        create the admin key file
  provision   give a device's state directory an identity key and a
              certificate (when flashing)
  sign        sign a certificate for a device's existing public key
  revoke      revoke a device's public key
  apply       hand a revocation to the local node, which enforces it and
              spreads it fleet-wide
  show-key    print a device's id, public key and certificate (on the device)

Run "murmur admin <subcommand> --help" for its options.`;

const help = {
  init: `usage: murmur admin init --out FILE

Creates a new fleet admin key in FILE (mode 0600) and prints its public key.
Refuses to overwrite an existing file. Keep FILE offline: whoever holds it can
admit and revoke devices.`,
  provision: `usage: murmur admin provision --admin-key FILE --state-dir DIR [--name ID]

For flashing: creates the device's identity key in DIR (or keeps the one
already there), signs a certificate for it and writes DIR/${CERTIFICATE_FILE}.
The node id is --name, else the one in DIR/${IDENTITY_FILE}; --name is
recorded there if the device has none yet. The files are mode 0600: run this
as the user murmur runs as, or chown DIR afterwards.

options:
  --admin-key FILE   the admin key file (from murmur admin init)
  --state-dir DIR    the device's state directory (node.stateDir), e.g. on a
                     mounted SD card
  --name ID          the device's node id:
                     ${NODE_ID_RULE}`,
  sign: `usage: murmur admin sign --admin-key FILE --name ID --public-key B64
                         [--out FILE]

Signs a certificate binding node id ID to a device's public key (as printed by
"murmur admin show-key" on the device). Prints it as JSON, or writes it to
FILE; the device expects it in its state directory as ${CERTIFICATE_FILE}.`,
  revoke: `usage: murmur admin revoke --admin-key FILE --public-key B64
                           [--reason TEXT] [--out FILE]

Signs a revocation of a device's public key and prints it as JSON, or writes it
to FILE. Nodes that learn of it stop accepting that key, under any node id.

options:
  --reason TEXT   why, for the logs: at most ${MAX_REASON_BYTES} bytes (default: none given)`,
  apply: `usage: murmur admin apply --revocation FILE [--state-dir DIR | --socket PATH]

Gives a revocation made by "murmur admin revoke" to the running node on this
device. It checks the admin's signature, refuses the key from then on, and
republishes the revocation so every device learns it (including devices that
are off now, when they return). Needs no admin key: the revocation is already
signed.`,
  'show-key': `usage: murmur admin show-key --state-dir DIR

Prints this device's node id, public key and fingerprint, and the certificate
it holds, if any. Give the public key to the admin for "murmur admin sign".`,
} as const;

type Sub = keyof typeof help;

const flagsOf: Record<Sub, readonly string[]> = {
  init: ['--out'],
  provision: ['--admin-key', '--state-dir', '--name'],
  sign: ['--admin-key', '--name', '--public-key', '--out'],
  revoke: ['--admin-key', '--public-key', '--reason', '--out'],
  apply: ['--revocation', '--state-dir', '--socket'],
  'show-key': ['--state-dir'],
};

export async function adminCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help' || sub === 'help') throw new CliError(adminHelp, 0);
  if (sub === undefined) throw new CliError(`murmur admin: expected a subcommand\n\n${adminHelp}`);
  if (!Object.hasOwn(help, sub)) throw new CliError(`murmur admin: unknown subcommand "${sub}"${didYouMean(sub, Object.keys(help))}\n\n${adminHelp}`);
  const flags = parseFlags(sub as Sub, rest);
  try {
    switch (sub as Sub) {
      case 'init':
        return init(flags, io);
      case 'provision':
        return provision(flags, io);
      case 'sign':
        return sign(flags, io);
      case 'revoke':
        return revoke(flags, io);
      case 'apply':
        return await apply(flags, io);
      case 'show-key':
        return showKey(flags, io);
    }
  } catch (e) {
    // Damaged or missing files, refusals: the message names the file and says what to do.
    if (e instanceof CliError || !(e instanceof Error)) throw e;
    throw new CliError(`murmur admin ${sub}: ${e.message}`, 1);
  }
}

class Flags {
  constructor(
    private readonly sub: Sub,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  get(flag: string): string | undefined {
    return this.values.get(flag);
  }

  required(flag: string): string {
    const v = this.values.get(flag);
    if (v === undefined) throw new CliError(`murmur admin ${this.sub}: ${flag} is required\n\n${help[this.sub]}`);
    return v;
  }
}

function parseFlags(sub: Sub, args: readonly string[]): Flags {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    if (flag === '-h' || flag === '--help') throw new CliError(help[sub], 0);
    if (!flagsOf[sub].includes(flag)) throw new CliError(`murmur admin ${sub}: unknown option "${flag}"\n\n${help[sub]}`);
    const v = args[++i];
    if (v === undefined || v.startsWith('--')) throw new CliError(`${flag}: expected a value\n\n${help[sub]}`);
    if (values.has(flag)) throw new CliError(`${flag}: given twice`);
    values.set(flag, v);
  }
  return new Flags(sub, values);
}

function nodeId(flag: string, id: string): string {
  const problem = nodeIdProblem(id);
  if (problem) throw new CliError(`${flag}: expected ${problem}, got ${JSON.stringify(id)}`);
  return id;
}

function publicKeyArg(flags: Flags): Uint8Array {
  try {
    return parsePublicKey(flags.required('--public-key'), '--public-key');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
}

function init(flags: Flags, io: CliIo): number {
  const out = flags.required('--out');
  const key = createAdminKeyFile(out);
  const pub = toBase64(key.publicKey);
  io.out(`admin key written to ${out} (mode 0600)`);
  io.out(`admin public key: ${pub}`);
  io.out(`fingerprint:      ${fingerprint(key.publicKey)}`);
  io.out(`Put the public key in each device's config as security.adminPublicKey: "security": { "adminPublicKey": "${pub}" }`);
  io.out(`Keep ${out} offline (a USB stick in a drawer, not the devices): whoever holds it can admit devices to the fleet and revoke them.`);
  return 0;
}

function provision(flags: Flags, io: CliIo): number {
  const admin = loadAdminKey(flags.required('--admin-key'));
  const dir = flags.required('--state-dir');
  const name = flags.get('--name');
  if (name !== undefined) nodeId('--name', name);
  // Settle the id before writing anything, so a refusal leaves DIR as it was.
  const idFile = join(dir, IDENTITY_FILE);
  const stored = storedIdentity(idFile);
  if (name !== undefined && stored !== undefined && stored !== name) {
    throw new CliError(
      `${idFile} holds id "${stored}", not "${name}": this state directory belongs to another device. ` +
        `Use --name ${stored}, or remove ${idFile} (and ${join(dir, 'device-key.json')}) to provision it afresh`,
      1,
    );
  }
  const id = name ?? stored;
  if (id === undefined) throw new CliError(`murmur admin provision: ${idFile} does not exist; give the device a node id with --name ID\n\n${help.provision}`);
  if (name === undefined) {
    const problem = nodeIdProblem(id);
    if (problem) throw new CliError(`${idFile}: id ${JSON.stringify(id)} cannot be certified (expected ${problem}); give another with --name`, 1);
  }
  const { key, created } = loadOrCreateDeviceKey(dir);
  if (stored === undefined) writeFileAtomic(idFile, JSON.stringify({ id }) + '\n');
  const certFile = join(dir, CERTIFICATE_FILE);
  writeFileAtomic(certFile, certificateToJson(signCertificate(id, key.publicKey, admin.secretKey)) + '\n');
  io.out(`provisioned node "${id}" in ${dir}`);
  io.out(`  public key   ${toBase64(key.publicKey)}`);
  io.out(`  fingerprint  ${fingerprint(key.publicKey)} (${created ? 'new key' : 'existing key'})`);
  io.out(`  certificate  ${certFile}`);
  return 0;
}

/** The id the device already runs under, if it has one. A damaged file is an error, not "none". */
function storedIdentity(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: unreadable (${(e as Error).message}); expected {"id": "..."}. Fix or remove it, and give --name`, 1);
  }
  const id = (j as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0) throw new CliError(`${file}: expected {"id": "..."}; fix or remove it, and give --name`, 1);
  return id;
}

function sign(flags: Flags, io: CliIo): number {
  const id = nodeId('--name', flags.required('--name'));
  const publicKey = publicKeyArg(flags);
  const admin = loadAdminKey(flags.required('--admin-key'));
  const json = certificateToJson(signCertificate(id, publicKey, admin.secretKey));
  return printOrWrite(flags, io, json, (out) => `certificate for "${id}" (key ${fingerprint(publicKey)}) written to ${out}; copy it to the device's state directory as ${CERTIFICATE_FILE}`);
}

/** A signed record to stdout, or to --out FILE. Certificates and revocations are public: 0644 lets the murmur user read one an admin copied in. */
function printOrWrite(flags: Flags, io: CliIo, json: string, written: (out: string) => string): number {
  const out = flags.get('--out');
  if (out === undefined) {
    io.out(json);
  } else {
    writeFileAtomic(out, json + '\n', 0o644);
    io.out(written(out));
  }
  return 0;
}

function revoke(flags: Flags, io: CliIo): number {
  const publicKey = publicKeyArg(flags);
  const reason = flags.get('--reason') ?? '';
  if (Buffer.byteLength(reason, 'utf8') > MAX_REASON_BYTES) {
    throw new CliError(`--reason: expected at most ${MAX_REASON_BYTES} bytes, got ${Buffer.byteLength(reason, 'utf8')}`);
  }
  const admin = loadAdminKey(flags.required('--admin-key'));
  const json = revocationToJson(signRevocation(publicKey, reason, admin.secretKey));
  return printOrWrite(flags, io, json, (out) => `revocation of key ${fingerprint(publicKey)} written to ${out}`);
}

async function apply(flags: Flags, io: CliIo): Promise<number> {
  const file = flags.required('--revocation');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`--revocation ${file}: cannot read: ${(e as Error).message}`, 1);
  }
  const r = parseRevocation(text, file);
  const target = resolveTarget({ stateDir: flags.get('--state-dir'), socket: flags.get('--socket') });
  const body = check(await apiRequest(target.socket, 'POST', '/v1/revocations', JSON.parse(text)), 'admin apply');
  io.out(`key ${fingerprint(r.publicKey)} revoked${body.new === false ? ' (already known here)' : ''}; the fleet learns it by gossip`);
  return 0;
}

function showKey(flags: Flags, io: CliIo): number {
  const dir = flags.required('--state-dir');
  const loaded = loadDeviceKey(dir);
  if (!loaded) {
    throw new CliError(`${join(dir, 'device-key.json')}: no device key yet; it is created on the first "murmur start", or by "murmur admin provision"`, 1);
  }
  const { key } = loaded;
  const idFile = join(dir, IDENTITY_FILE);
  let id: string | undefined;
  try {
    id = storedIdentity(idFile);
  } catch (e) {
    io.err((e as Error).message);
  }
  const pub = toBase64(key.publicKey);
  io.out(`id           ${id ?? '(none yet: chosen on first start, or set node.name)'}`);
  io.out(`public key   ${pub}`);
  io.out(`fingerprint  ${fingerprint(key.publicKey)}`);
  let certified = false;
  try {
    const cert = loadCertificate(dir);
    if (!cert) io.out('certificate  none');
    else if (Buffer.compare(cert.publicKey, key.publicKey) !== 0) io.out(`certificate  for "${cert.id}", but for another public key (${fingerprint(cert.publicKey)}): it must be signed again`);
    else {
      certified = true;
      io.out(`certificate  for "${cert.id}"${id !== undefined && cert.id !== id ? ` (but this device's id is "${id}")` : ''}`);
    }
  } catch (e) {
    io.out(`certificate  damaged: ${(e as Error).message}`);
  }
  if (!certified) {
    io.out(`To admit this device: murmur admin sign --admin-key FILE --name ${id ?? 'ID'} --public-key ${pub} --out ${CERTIFICATE_FILE}`);
    io.out(`then copy ${CERTIFICATE_FILE} to ${dir}/`);
  }
  return 0;
}
