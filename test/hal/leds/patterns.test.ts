import { describe, expect, it } from 'vitest';
import { cycleMs, MAX_HOLD_MS, PATTERNS, renderPattern, type Pattern } from '../../../hal/leds/patterns.js';

/** The level runs of one cycle, merged (a cycle that ends on and starts on is one long run). */
function runs(p: Pattern): Array<[boolean, number]> {
  const out: Array<[boolean, number]> = [];
  for (const [on, ms] of [...p.steps, ...p.steps]) {
    const last = out.at(-1);
    if (last && last[0] === on) last[1] += ms;
    else out.push([on, ms]);
  }
  return out;
}

/**
 * Pi firmware flash codes: groups of 2-10 flashes of a quarter second or more, then a pause.
 * A pattern looks like one when some run of 2-10 "on" flashes of >= 150 ms is set off by off
 * gaps that are short inside the group and long around it.
 */
function looksLikeFirmwareCode(p: Pattern): boolean {
  const ons = p.steps.filter(([on]) => on).map(([, ms]) => ms);
  const offs = p.steps.filter(([on]) => !on).map(([, ms]) => ms);
  if (ons.length < 2 || ons.length > 10) return false;
  const flashesAreFirmwareSpeed = ons.every((ms) => ms >= 150);
  const hasPause = Math.max(...offs) >= 2 * Math.min(...offs);
  return flashesAreFirmwareSpeed && hasPause;
}

describe('status patterns', () => {
  const all = Object.values(PATTERNS);

  it('every pattern changes level at least every MAX_HOLD_MS, so a frozen LED means murmur is not running', () => {
    for (const p of all) {
      expect(runs(p).some(([on]) => on), p.status).toBe(true);
      expect(runs(p).some(([on]) => !on), p.status).toBe(true);
      for (const [, ms] of runs(p)) expect(ms, p.status).toBeLessThanOrEqual(MAX_HOLD_MS);
    }
  });

  it('no two statuses share a rhythm', () => {
    const rhythms = all.map((p) => p.steps.map(([on, ms]) => `${on ? 1 : 0}:${ms}`).join(','));
    expect(new Set(rhythms).size).toBe(all.length);
  });

  it('none is a firmware flash code or the kernel heartbeat double blink', () => {
    for (const p of all) {
      expect(looksLikeFirmwareCode(p), p.status).toBe(false);
      const onsPerCycle = p.steps.filter(([on]) => on).length;
      expect(onsPerCycle === 2 && cycleMs(p) >= 800, `${p.status} is a double blink`).toBe(false);
    }
  });

  it('the checks catch what they are meant to', () => {
    const fourShort: Pattern = { ...PATTERNS.healthy, steps: [[true, 300], [false, 300], [true, 300], [false, 300], [true, 300], [false, 300], [true, 300], [false, 2000]] };
    expect(looksLikeFirmwareCode(fourShort)).toBe(true);
    const solid: Pattern = { ...PATTERNS.healthy, steps: [[true, 5000], [false, 10]] };
    expect(runs(solid).some(([, ms]) => ms > MAX_HOLD_MS)).toBe(true);
  });

  it('renders as a strip for logs and the simulated LED', () => {
    expect(renderPattern(PATTERNS.healthy)).toBe('█' + '▁'.repeat(29));
    expect(renderPattern(PATTERNS.searching, 500)).toBe('██▁▁');
    expect(cycleMs(PATTERNS.identify)).toBe(12 * 80 + 1000);
  });
});

describe('the README table', () => {
  it('documents every status with the pattern as it is played', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const p of Object.values(PATTERNS)) {
      expect(readme, p.status).toContain(`| \`${p.status}\` | \`${renderPattern(p)}\` | ${p.looks} | ${p.means} |`);
    }
  });
});
