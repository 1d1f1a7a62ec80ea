import { describe, expect, it } from 'vitest';
import { formatLine, lineLogger, parseLine } from '../../runtime/log/log.js';

describe('logfmt lines', () => {
  it('read naturally and parse back, quoting values with spaces, quotes and equals signs', () => {
    const line = formatLine(new Date(Date.UTC(2026, 10, 23, 3, 0, 0)), 'warn', 'member-status', {
      member: 'pi-7',
      status: 'dead',
      sources: 'pi-1,pi-2',
      note: 'said "hi" a=b',
      skipped: undefined,
    });
    expect(line).toBe('ts=2026-11-23T03:00:00.000Z level=warn event=member-status member=pi-7 status=dead sources=pi-1,pi-2 note="said \\"hi\\" a=b"');
    expect(parseLine(line)).toEqual({
      ts: '2026-11-23T03:00:00.000Z',
      level: 'warn',
      event: 'member-status',
      member: 'pi-7',
      status: 'dead',
      sources: 'pi-1,pi-2',
      note: 'said "hi" a=b',
    });
  });
  it('a logger drops lines below its level', () => {
    const out: string[] = [];
    const log = lineLogger((l) => out.push(l), 'info');
    log.log('debug', 'noise');
    log.log('info', 'kept', { n: 1 });
    expect(out).toHaveLength(1);
    expect(parseLine(out[0]!)).toMatchObject({ event: 'kept', n: '1' });
  });
});
