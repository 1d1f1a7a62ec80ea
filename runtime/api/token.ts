// The bearer token of the API on loopback TCP. Any local user can open a TCP connection, so the
// token is what stands in for the Unix socket's file permissions: whoever can read the token
// file (murmur's user, root, and whoever they give it to) can use the API over TCP.
//
// The file holds the token alone, as text. It is made at start when missing (32 random bytes,
// base64url, mode 0600) and kept across restarts, so clients configured with it keep working;
// deleting it and restarting murmur replaces it.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { octal, restrictMode } from '../persist/secret-file.js';

const TOKEN = /^[A-Za-z0-9_-]{32,256}$/;

export interface LoadedToken {
  readonly token: string;
  readonly created: boolean;
  /** The mode the file had, when it was wider than 0600 and has been narrowed. */
  readonly modeFixed: string | undefined;
}

/** Which token a message is about: what it is called, and the config field naming its file. */
export interface TokenRole {
  readonly name: string;
  readonly field: string;
}

const API_TOKEN: TokenRole = { name: 'API token', field: 'api.tokenFile' };

/** The token in `file`, made first if the file is missing. Throws naming the file when it is unusable. */
export function loadOrCreateApiToken(file: string, role: TokenRole = API_TOKEN): LoadedToken {
  const mode = restrictMode(file, 0o600, role.name);
  if (mode === undefined) {
    const token = randomBytes(32).toString('base64url');
    writeFileAtomic(file, token + '\n', 0o600);
    return { token, created: true, modeFixed: undefined };
  }
  return { token: readApiToken(file, role), created: false, modeFixed: mode.fixed ? octal(mode.was) : undefined };
}

/** The token in `file`; the error names the file and what to do. */
export function readApiToken(file: string, role: TokenRole = API_TOKEN): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${role.name} ${file}: cannot read it (${(e as Error).message}); run as murmur's user or root, or set ${role.field}`);
  }
  const token = text.trim();
  if (!TOKEN.test(token)) throw new Error(`${role.name} ${file}: expected 32 to 256 letters, digits, "-" or "_"; remove the file and restart murmur to have a new one made`);
  return token;
}

/** Whether an Authorization header carries `token`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}
