// Files and directories only murmur may open: the state directory, the fleet keyring, the
// device key, the API token. A mode that lets other users in is narrowed at start; when murmur
// cannot narrow it (the file belongs to another user, or chmod fails), the start is refused with
// the command that fixes it, rather than running with a secret others can read or replace.

import { chmodSync, statSync } from 'node:fs';

export interface ModeFix {
  /** The permission bits found. */
  readonly was: number;
  /** Whether they were wider than allowed and have been narrowed. */
  readonly fixed: boolean;
}

export const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;

/**
 * Narrow `path` to at most the bits of `allowed` (0o600 for a secret file, 0o700 for the state
 * directory). undefined when `path` does not exist. Throws, naming `what` and `path`, when the
 * mode is too wide and cannot be changed. `uid` is the user murmur runs as.
 */
export function restrictMode(path: string, allowed: number, what: string, uid: number | undefined = process.geteuid?.()): ModeFix | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${what} ${path}: ${(e as Error).message}`);
  }
  const was = st.mode & 0o777;
  if ((was & ~allowed) === 0) return { was, fixed: false };
  const target = was & allowed;
  const fix = `chmod ${target.toString(8)} ${path}`;
  const wide = `${what} ${path}: mode ${octal(was)} lets other users ${st.isDirectory() ? 'in' : 'read or replace it'} (at most ${octal(allowed)} is allowed)`;
  // Root may change any file; anyone else only their own, and chmod would fail with EPERM.
  if (uid !== undefined && uid !== 0 && st.uid !== uid) {
    throw new Error(`${wide}, and murmur (uid ${uid}) cannot change it: it belongs to uid ${st.uid}. Run as root: chown ${uid} ${path} && ${fix}`);
  }
  try {
    chmodSync(path, target);
  } catch (e) {
    throw new Error(`${wide}, and murmur cannot change it (${(e as Error).message}); run: ${fix}`);
  }
  return { was, fixed: true };
}
