// Files that must never be half-written: write a temporary file beside the target, fsync it,
// rename it over the target, then fsync the directory so the rename itself survives power loss.
// A crash at any point leaves either the old file or the new one, never a mix.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', mode);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    closeSync(closing);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The write error below is the one worth reporting.
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was created, or it is already gone.
    }
    throw new Error(`writing ${path}: ${(e as Error).message}`);
  }
  syncDir(dirname(path));
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
