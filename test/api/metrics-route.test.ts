import { describe, expect, it } from 'vitest';
import { sharedScraper } from '../../runtime/api/metrics-route.js';

// Scrapes within a second of each other share one collection, so a flood of requests costs the
// node at most one collection a second; a failed collection is not kept.

describe('sharedScraper', () => {
  it('collects once for scrapes within 1 s, again after, and retries after a failure', async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const s = sharedScraper(
      {
        scrape: () => {
          calls++;
          return fail ? Promise.reject(new Error('boom')) : Promise.resolve({ text: `n ${calls}\n`, contentType: 'text/plain' });
        },
      },
      () => now,
    );
    const [a, b] = await Promise.all([s.scrape(), s.scrape()]);
    expect(a.text).toBe('n 1\n');
    expect(b).toBe(a);
    now = 999;
    expect((await s.scrape()).text).toBe('n 1\n');
    now = 1000;
    expect((await s.scrape()).text).toBe('n 2\n');
    now = 2500;
    fail = true;
    await expect(s.scrape()).rejects.toThrow('boom');
    fail = false;
    expect((await s.scrape()).text).toBe('n 4\n');
    expect(calls).toBe(4);
  });
});
