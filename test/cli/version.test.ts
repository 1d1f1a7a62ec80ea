import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { murmurVersion } from '../../runtime/cli/version.js';
import { run } from './recording-io.js';

const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-version-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('murmur --version', () => {
  it.each([['--version'], ['-V'], ['version']])('%s prints the version from package.json and exits 0', async (flag) => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`murmur ${VERSION}\n`);
  });

  it("skips other packages' package.json on the way up to murmur's", () => {
    writeFileSync(join(dir, 'package.json'), '{"name": "murmur", "version": "9.8.7"}');
    mkdirSync(join(dir, 'node_modules/x/lib'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/x/package.json'), '{"name": "x", "version": "1.0.0"}');
    expect(murmurVersion(join(dir, 'node_modules/x/lib'))).toBe('9.8.7');
  });

  it('names the file when it is damaged', () => {
    writeFileSync(join(dir, 'package.json'), '{"name": ');
    expect(() => murmurVersion(dir)).toThrow(new RegExp(`${dir}/package.json: cannot read murmur's version`));
  });
});
