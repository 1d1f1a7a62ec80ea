// Builds a fake system tree (/sys, /proc, /dev) in a temporary folder for HAL tests. Tests run
// as root, which ignores file modes, so a permission error is made with FailingFs instead.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FsRoot } from '../../hal/fs-root.js';

export class FakeTree {
  readonly root: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'murmur-hal-'));
  }

  /** Writes `text` at the system path `p` (e.g. "/sys/class/thermal/thermal_zone0/temp"). */
  file(p: string, text: string): this {
    const real = join(this.root, p);
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, text);
    return this;
  }

  dir(p: string): this {
    mkdirSync(join(this.root, p), { recursive: true });
    return this;
  }

  /** A symlink at `p` pointing to the system path `target`, as sysfs class links do. */
  link(p: string, target: string): this {
    const real = join(this.root, p);
    mkdirSync(dirname(real), { recursive: true });
    mkdirSync(join(this.root, target), { recursive: true });
    symlinkSync(join(this.root, target), real);
    return this;
  }

  read(p: string): string {
    return new FsRoot(this.root).readSync(p);
  }

  fs(): FsRoot {
    return new FsRoot(this.root);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A FsRoot whose chosen paths fail with an errno, as an unreadable or vanished device would. */
export class FailingFs extends FsRoot {
  readonly #fail = new Map<string, string>();

  /** Every read or write of system path `p` fails with `code` ("EACCES", "EIO", "ETIMEDOUT"...). */
  failOn(p: string, code: string, times = Infinity): this {
    this.#fail.set(p, code);
    this.#times.set(p, times);
    return this;
  }

  readonly #times = new Map<string, number>();

  #check(p: string): void {
    const code = this.#fail.get(p);
    if (code === undefined) return;
    const left = this.#times.get(p)!;
    if (left <= 0) return;
    this.#times.set(p, left - 1);
    throw Object.assign(new Error(`${code}: simulated failure, ${p}`), { code });
  }

  override read(p: string): Promise<string> {
    try {
      this.#check(p);
    } catch (e) {
      return Promise.reject(e);
    }
    return super.read(p);
  }

  override readSync(p: string): string {
    this.#check(p);
    return super.readSync(p);
  }

  override tryReadSync(p: string): string | undefined {
    try {
      this.#check(p);
    } catch {
      return undefined;
    }
    return super.tryReadSync(p);
  }

  override writeSync(p: string, text: string): void {
    this.#check(p);
    super.writeSync(p, text);
  }
}
