import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress } from '../../runtime/net/address.js';

describe('addresses', () => {
  it.each([
    ['10.0.0.5:7478', { host: '10.0.0.5', port: 7478, family: 'ipv4' }],
    ['10.0.0.5', { host: '10.0.0.5', port: 9000, family: 'ipv4' }],
    ['[fd00::5]:7478', { host: 'fd00::5', port: 7478, family: 'ipv6' }],
    ['[fe80::1%eth0]:7478', { host: 'fe80::1%eth0', port: 7478, family: 'ipv6' }],
    ['fd00::5', { host: 'fd00::5', port: 9000, family: 'ipv6' }],
  ])('parses %s', (text, want) => {
    expect(parseAddress(text, 'seed', 9000)).toEqual(want);
  });

  it.each([
    ['pi-kitchen:7478', /not an IPv4 address/],
    ['10.0.0.5:99999', /port in "10.0.0.5:99999" must be 1-65535/],
    ['10.0.0.5', /has no port/],
  ])('rejects %s with an error naming the field', (text, msg) => {
    expect(() => parseAddress(text, 'network.seeds[2]')).toThrow(msg);
    expect(() => parseAddress(text, 'network.seeds[2]')).toThrow(/^network\.seeds\[2\]/);
  });

  it('formats round-trip, bracketing IPv6', () => {
    expect(formatAddress('fe80::1%eth0', 7)).toBe('[fe80::1%eth0]:7');
    expect(formatAddress('10.1.2.3', 7)).toBe('10.1.2.3:7');
    const ep = parseAddress(formatAddress('fd00::1', 7478), 'x');
    expect(ep).toEqual({ host: 'fd00::1', port: 7478, family: 'ipv6' });
  });
});
