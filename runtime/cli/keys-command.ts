// `murmur keys`: the fleet keyring. Changes go to the local node, which offers them to the
// whole fleet (runtime/agent/key-sync.ts). With the node stopped, install/use/remove edit the
// state directory's keyring file instead and take effect at the next start: that is how a
// device that was off past a rotation's grace period is given the current key by hand.

import { join } from 'node:path';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { formatKeyId, KeyNotInstalledError, Keyring } from '../crypto/keyring.js';
import { generateFleetKey, KEYRING_FILE, loadKeyring, parseFleetKey, saveKeyring } from '../agent/keyring-store.js';
import { nullLogger } from '../log/log.js';
import { apiRequest, check, EXIT_NOT_FOUND, NotRunningError } from './api-client.js';
import { parseArgs } from './target-args.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { didYouMean } from './suggest.js';
import { loadAdminKey } from '../trust/admin-key.js';
import { signGrant } from '../trust/keyring-grant.js';

export const keysHelp = `usage: murmur keys <command> [options]

The fleet keyring: every datagram is sealed under the primary fleet key; any
installed key opens. Changes act on the whole fleet through the local node.

commands:
  generate                print a new random fleet key (base64); give it to
                          "install" or security.fleetKeyFile
  list                    the keys, their state (active, retired, gone) and
                          which one is primary
  install KEY | --file F  install a key fleet-wide (it opens at once; seals
                          only after "use")
          [--force]       node stopped: replace the keyring with this one key,
                          whatever state it is in (the old file is kept as
                          keyring.json.damaged)
  use ID                  make an installed key the primary, fleet-wide
  remove ID [--compromised]
                          retire a key: devices still using it get the new
                          keyring for security.keyGraceDays; --compromised
                          erases it at once, no grace

A rotation: install NEW, wait until every device lists it, use NEW, then remove
OLD.

In a fleet with an admin key (security.adminPublicKey), install, use and remove
need --admin-key FILE: the node prepares the change, it is signed here with the
admin key, and every device applies it at once.

options:
  --state-dir DIR   the node's state directory (default from the config)
  --config FILE     the node's config file
  --socket PATH     the API socket (default: api.socket in the state directory)
  --admin-key FILE  sign the change with the fleet admin key (fleets with one)
  --json            machine-readable output

With the node stopped, install/use/remove change DIR/${KEYRING_FILE} and
apply at the next start.`;

export async function keysCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') throw new CliError(keysHelp, 0);
  const p = parseArgs('keys', rest, { valued: ['--file', '--admin-key'], flags: ['--compromised', '--force'] }, keysHelp, io);
  const adminOpt = p.options.get('--admin-key');
  const adminKeyFile = typeof adminOpt === 'string' ? adminOpt : undefined;
  if (adminKeyFile !== undefined && !['install', 'use', 'remove'].includes(sub)) throw new CliError(`murmur keys ${sub}: --admin-key is for install, use and remove\n\n${keysHelp}`);
  const force = p.options.has('--force');
  const { json, positional } = p;
  const compromised = p.options.has('--compromised');
  const fileOpt = p.options.get('--file');
  const file = typeof fileOpt === 'string' ? fileOpt : undefined;
  if (sub === 'generate') {
    io.out(generateFleetKey());
    return 0;
  }
  const target = p.target();
  const arg = (what: string): string => {
    const v = positional[0];
    if (v === undefined) throw new CliError(`murmur keys ${sub}: expected ${what}\n\n${keysHelp}`);
    return v;
  };
  const print = (body: Record<string, unknown>, human: string): number => {
    io.out(json ? jsonText(body) : human);
    return 0;
  };
  let key: string | undefined;
  if (sub === 'install') {
    key = file !== undefined ? readKeyFile(file) : arg('a key (base64) or --file F');
    try {
      parseFleetKey(key, file ?? 'KEY');
    } catch (e) {
      // An input error like any other: named, no stack trace.
      throw new CliError((e as Error).message);
    }
  }
  if (force && sub !== 'install') throw new CliError(`murmur keys ${sub}: --force is for "install" only\n\n${keysHelp}`);
  // A change, made by the node; with --admin-key, prepared by the node, signed here, then made.
  const change = async (what: 'install' | 'use' | 'remove', body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    if (adminKeyFile === undefined) return check(await apiRequest(target.socket, 'POST', `/v1/keys/${what}`, body), `keys ${what}`);
    let admin;
    try {
      admin = loadAdminKey(adminKeyFile);
    } catch (e) {
      throw new CliError(`--admin-key: ${(e as Error).message}`);
    }
    const prepared = check(await apiRequest(target.socket, 'POST', `/v1/keys/${what}`, { ...body, prepare: true }), `keys ${what}`);
    const grant = signGrant(admin, new Uint8Array(Buffer.from(String(prepared.granted), 'base64')));
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
    check(await apiRequest(target.socket, 'POST', '/v1/keys/grant', { granted: b64(grant.granted), signature: b64(grant.signature), ...(what === 'install' ? { key: body.key } : {}) }), `keys ${what}`);
    const { granted: _granted, ...answer } = prepared;
    return answer;
  };
  try {
    // --force rewrites the file under the node's feet: only with the node stopped.
    if (force) {
      check(await apiRequest(target.socket, 'GET', '/v1/keys'), 'keys install --force');
      throw new CliError(`murmur keys install --force: the node is running (${target.socket}); stop it first, this replaces its keyring file`, 1);
    }
    switch (sub) {
      case 'list': {
        const body = check(await apiRequest(target.socket, 'GET', '/v1/keys'), 'keys list');
        return print(body, formatList(body));
      }
      case 'install': {
        const body = await change('install', { key });
        return print(body, `installed ${String(body.id)} (fleet-wide; "murmur keys use ${String(body.id)}" makes it the primary)`);
      }
      case 'use': {
        const body = await change('use', { id: arg('a key id') });
        return print(body, `primary is now ${String(body.primary)} (fleet-wide)`);
      }
      case 'remove': {
        const body = await change('remove', { id: arg('a key id'), compromised });
        return print(body, `${String(body.id)} is now ${String(body.state)} (fleet-wide)`);
      }
      default:
        throw new CliError(`murmur keys: unknown command "${sub}"${didYouMean(sub, ['generate', 'list', 'install', 'use', 'remove'])}\n\n${keysHelp}`);
    }
  } catch (e) {
    if (!(e instanceof NotRunningError) || sub === 'list') throw e;
    return offline(sub, target.stateDir, key, positional[0], compromised, force, io);
  }
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CliError(`--file ${file}: cannot read: ${(e as Error).message}`);
  }
}

/** The node is not running: change its keyring file directly. */
function offline(sub: string, stateDir: string, key: string | undefined, id: string | undefined, compromised: boolean, force: boolean, io: CliIo): number {
  const file = join(stateDir, KEYRING_FILE);
  let ring;
  let replaced: string | undefined;
  try {
    if (existsSync(file) && !force) ring = loadKeyring(file, { graceMs: Infinity, fleetKeyFile: undefined, log: nullLogger });
    else if (sub === 'install') ring = new Keyring(Infinity);
    else throw new Error(`${file}: no keyring yet; "murmur keys install" creates one`);
  } catch (e) {
    throw new CliError((e as Error).message, 1);
  }
  const replacing = sub === 'install' && existsSync(file) && ring.size === 0;
  try {
    if (sub === 'install') {
      const installed = ring.install(parseFleetKey(key!, 'KEY'));
      if (ring.size === 1) ring.use(installed);
    }
    else {
      if (id === undefined || !/^[0-9a-f]{8}$/.test(id)) throw new Error(`key id: expected 8 hex digits, got "${id ?? ''}"`);
      if (sub === 'use') ring.use(parseInt(id, 16));
      else ring.remove(parseInt(id, 16), compromised);
    }
  } catch (e) {
    throw new CliError(`keys ${sub}: ${(e as Error).message}`, e instanceof KeyNotInstalledError ? EXIT_NOT_FOUND : 1);
  }
  if (replacing) {
    replaced = `${file}.damaged`;
    renameSync(file, replaced);
  }
  saveKeyring(file, ring);
  if (replaced) io.err(`replaced the keyring: the previous file is kept as ${replaced}`);
  io.err(`murmur is not running: changed ${file}; this takes effect when the node starts (primary ${formatKeyId(ring.primaryId!)})`);
  return 0;
}

function formatList(body: Record<string, unknown>): string {
  const keys = (body.keys as { id: string; state: string; primary: boolean; installed: string | null; used: string | null; removed: string | null }[]) ?? [];
  const lines = ['ID        STATE     PRIMARY  INSTALLED             REMOVED'];
  const day = (t: string | null): string => (t ? t.slice(0, 19).replace('T', ' ') : '-');
  for (const k of keys) lines.push(`${k.id}  ${k.state.padEnd(8)}  ${(k.primary ? 'yes' : '').padEnd(7)}  ${day(k.installed).padEnd(20)}  ${day(k.removed)}`);
  return lines.join('\n');
}
