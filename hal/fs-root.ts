// Every driver reads and writes the system through a FsRoot, so a test can point it at a fake
// `/sys` and `/proc` tree in a temporary folder (broken files, missing devices, permission
// errors included) and the same code runs unchanged on a Pi with the root "/".

import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export class FsRoot {
  /** `root` is "/" on a device; a temporary folder in tests. */
  constructor(readonly root: string = '/') {}

  /** The real path of an absolute system path such as "/sys/class/leds". */
  path(p: string): string {
    return this.root === '/' ? p : join(this.root, p);
  }

  /**
   * Asynchronous on purpose: some sysfs reads block in the kernel for the length of a
   * measurement (a DS18B20 conversion takes 750 ms), which must not stall the event loop.
   */
  read(p: string): Promise<string> {
    return readFile(this.path(p), 'utf8');
  }

  /** For small attribute files that answer at once (LED triggers, GPIO chip labels). */
  readSync(p: string): string {
    return readFileSync(this.path(p), 'utf8');
  }

  /** undefined when the file is missing or unreadable: for probing what a machine has. */
  tryReadSync(p: string): string | undefined {
    try {
      return readFileSync(this.path(p), 'utf8');
    } catch {
      return undefined;
    }
  }

  writeSync(p: string, text: string): void {
    writeFileSync(this.path(p), text);
  }

  exists(p: string): boolean {
    return existsSync(this.path(p));
  }

  /** Entry names of a directory; empty when it does not exist (no such hardware). */
  list(p: string): string[] {
    try {
      return readdirSync(this.path(p)).sort();
    } catch {
      return [];
    }
  }

  /** Where a sysfs symlink points, as a system path (under the root). */
  realpath(p: string): string {
    const real = realpathSync(this.path(p));
    return this.root === '/' ? real : real.startsWith(this.root) ? real.slice(this.root.replace(/\/$/, '').length) || '/' : real;
  }
}
