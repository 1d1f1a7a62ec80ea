// The options every command that talks to the local node shares (--state-dir, --config,
// --socket, --json), parsed once so each command only handles its own.

import { resolveTarget, type Target } from './api-client.js';
import { CliError, type CliIo } from './io.js';

export interface ParsedArgs {
  readonly target: () => Target;
  readonly json: boolean;
  readonly positional: readonly string[];
  /** Command-specific options, as given: flag -> value (true for a flag without a value). */
  readonly options: ReadonlyMap<string, string | true>;
}

/**
 * `valued` lists the command's own options that take a value, `flags` those that do not.
 * Anything else starting with "--" is an error naming the option, followed by `help`. When the
 * node is found somewhere the options did not name (see resolveTarget), `io` is told where.
 */
export function parseArgs(cmd: string, args: readonly string[], own: { valued?: readonly string[]; flags?: readonly string[] }, help: string, io: CliIo): ParsedArgs {
  let config: string | undefined;
  let stateDir: string | undefined;
  let socket: string | undefined;
  let fleetConfig: string | undefined;
  let json = false;
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new CliError(`${a}: expected a value\n\n${help}`);
      return v;
    };
    // Everything after "--" is an argument, so a key or value may start with "-".
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === '--help' || a === '-h') throw new CliError(help, 0);
    else if (a === '--config') config = value();
    else if (a === '--state-dir') stateDir = value();
    else if (a === '--socket') socket = value();
    else if (a === '--fleet-config') fleetConfig = value();
    else if (a === '--json') json = true;
    else if (own.valued?.includes(a)) options.set(a, value());
    else if (own.flags?.includes(a)) options.set(a, true);
    else if (a.startsWith('--')) throw new CliError(`murmur ${cmd}: unknown option "${a}"\n\n${help}`);
    else positional.push(a);
  }
  let target: Target | undefined;
  const resolved = (): Target => {
    if (target) return target;
    target = resolveTarget({ config, stateDir, socket, fleetConfig });
    if (target.note !== undefined) io.err(target.note);
    return target;
  };
  return { target: resolved, json, positional, options };
}
