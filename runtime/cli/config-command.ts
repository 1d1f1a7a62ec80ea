// `murmur config check|show`: validate a device config before it is flashed or restarted on, and
// print the configuration a node would actually run with (every layer and default applied).

import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KEYRING_FILE } from '../agent/keyring-store.js';
import { ConfigError, loadLayeredConfig, type LoadedConfig } from '../config/config.js';
import { hideSecrets } from '../config/secrets.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { didYouMean } from './suggest.js';

/** sysexits.h EX_CONFIG, as `murmur start` uses for the same errors. */
export const EXIT_INVALID_CONFIG = 78;

export const configHelp = `usage: murmur config check [FILE] [--fleet-config FILE]
       murmur config show [--config FILE] [--fleet-config FILE] [--json]

check  validates FILE (a YAML or JSON device config) with the fleet file it
       extends, as "murmur start --config FILE" would. Prints "ok: FILE" and
       exits 0, or prints every error (file:line: field.path: what was
       expected), one a line, and exits ${EXIT_INVALID_CONFIG}. A fleet key file
       that a first start would read and cannot is an error too.
show   prints the effective configuration: defaults, fleet file, device file,
       every field filled in. YAML (which "config check" accepts back), or
       JSON with --json. Secret fields are shown as "(hidden)"; key files
       appear as their paths only.

options:
  --config FILE        the device config (check also takes it as FILE)
  --fleet-config FILE  the fleet-wide file, instead of the device's "extends"
  --json               show: JSON instead of YAML`;

export function configCommand(args: readonly string[], io: CliIo): number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') throw new CliError(configHelp, 0);
  if (sub !== 'check' && sub !== 'show') throw new CliError(`murmur config: unknown subcommand "${sub}"${didYouMean(sub, ['check', 'show'])}\n\n${configHelp}`);
  const opts = parseOptions(sub, rest);
  let loaded: LoadedConfig;
  try {
    loaded = loadLayeredConfig(opts.file, {}, { fleetFile: opts.fleetFile });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, EXIT_INVALID_CONFIG);
    throw e;
  }
  if (sub === 'check') {
    const missing = missingFiles(loaded);
    if (missing.length > 0) throw new CliError(missing.join('\n'), EXIT_INVALID_CONFIG);
    const device = opts.file;
    const fleet = loaded.files.length > (device === undefined ? 0 : 1) ? loaded.files[0] : undefined;
    io.out(`ok: ${device ?? fleet ?? 'the embedded defaults'}${device !== undefined && fleet !== undefined ? ` (with fleet file ${fleet})` : ''}`);
    return 0;
  }
  // Unset optional fields are shown as null, so every field is there to be read (and copied).
  const plain = hideSecrets(JSON.parse(JSON.stringify(loaded.config, (_k, v: unknown) => (v === undefined ? null : v))));
  if (opts.json) {
    io.out(jsonText(plain, null, 2));
  } else {
    io.out(`# effective config: ${['defaults', ...loaded.files].join(' < ')}`);
    io.out(stringify(plain, { lineWidth: 0 }).trimEnd());
  }
  return 0;
}

/**
 * Files the config names that a start would need and cannot read: the fleet key file, which a
 * start reads while the state directory has no keyring yet (the first start, as when flashing).
 */
function missingFiles(loaded: LoadedConfig): string[] {
  const file = loaded.config.security.fleetKeyFile;
  if (file === undefined || existsSync(join(loaded.config.node.stateDir, KEYRING_FILE))) return [];
  try {
    accessSync(file, constants.R_OK);
    return [];
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return [`${loaded.where('security.fleetKeyFile')}: security.fleetKeyFile: cannot read ${file}: ${why} (a relative path is relative to the file that names it)`];
  }
}

function parseOptions(sub: 'check' | 'show', args: readonly string[]): { file: string | undefined; fleetFile: string | undefined; json: boolean } {
  let file: string | undefined;
  let fleetFile: string | undefined;
  let json = false;
  const setFile = (v: string): void => {
    if (file !== undefined) throw new CliError(`murmur config ${sub}: one device config at a time, got ${file} and ${v}`);
    file = v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new CliError(`${a}: expected a file\n\n${configHelp}`);
      return v;
    };
    if (a === '-h' || a === '--help') throw new CliError(configHelp, 0);
    else if (a === '--config') setFile(value());
    else if (a === '--fleet-config') fleetFile = value();
    else if (a === '--json' && sub === 'show') json = true;
    else if (a.startsWith('-')) throw new CliError(`murmur config ${sub}: unknown option "${a}"\n\n${configHelp}`);
    else if (sub === 'check') setFile(a);
    else throw new CliError(`murmur config show: unexpected argument "${a}" (the device config is --config FILE)\n\n${configHelp}`);
  }
  return { file, fleetFile, json };
}
