import { describe, expect, it } from 'vitest';
import { escapeJsonControl, jsonText } from '../../runtime/log/escape.js';
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

describe('control characters from the fleet', () => {
  const ts = new Date(Date.UTC(2026, 10, 23, 3, 0, 0));
  // ESC [2J clears a terminal, BEL rings it, CR lets the rest of a line overwrite what came before.
  const hostile = 'pi\u001b[2J\u0007\rlevel=error event=forged';

  it('a node id carrying ESC, BEL and CR is written escaped, on one line, and parses back', () => {
    const line = formatLine(ts, 'info', 'member-status', { member: hostile, status: 'alive' });
    expect(line).toBe('ts=2026-11-23T03:00:00.000Z level=info event=member-status member="pi\\u001b[2J\\u0007\\rlevel=error event=forged" status=alive');
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(parseLine(line)).toMatchObject({ level: 'info', event: 'member-status', member: hostile, status: 'alive' });
  });

  it.each([
    ['DEL', '\u007f', '\\u007f'],
    ['C1 CSI', '\u009b', '\\u009b'],
    ['NEL', '\u0085', '\\u0085'],
    ['line separator', '\u2028', '\\u2028'],
    ['paragraph separator', '\u2029', '\\u2029'],
    ['NUL', '\u0000', '\\u0000'],
  ])('%s is escaped in values, event names and field names', (_name, c, escaped) => {
    const line = formatLine(ts, 'warn', `ev${c}`, { [`k${c}`]: `v${c}`, n: 1 });
    expect(line).not.toContain(c);
    expect(line).toContain(`event="ev${escaped}"`);
    expect(line).toContain(`k${escaped}="v${escaped}"`);
    expect(parseLine(line)[`k${escaped}`]).toBe(`v${c}`);
  });

  it('a backslash before a "u" reads back as written, not as an escape', () => {
    const line = formatLine(ts, 'info', 'x', { path: 'C:\\u0041 "q"' });
    expect(parseLine(line).path).toBe('C:\\u0041 "q"');
  });
});

describe('JSON text', () => {
  it('escapes what JSON.stringify leaves raw (DEL, C1, U+2028/2029) and parses to the same value', () => {
    const value = { id: 'pi\u009b2J\u007f\u2028\u2029\u001b', n: 1 };
    expect(JSON.stringify(value)).toContain('\u009b');
    const text = jsonText(value);
    expect(text).toBe('{"id":"pi\\u009b2J\\u007f\\u2028\\u2029\\u001b","n":1}');
    expect(JSON.parse(text)).toEqual(value);
    expect(escapeJsonControl(JSON.stringify(value))).toBe(text);
  });
});
