import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAddressLiteral, isLocalhostName, isPublicAddress, specialRange } from './ip-ranges.js';

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

// The reference: node's own subnet matcher over the blocks, written out as CIDR text.
const V4_BLOCKED = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4'];
const reference = new BlockList();
for (const cidr of V4_BLOCKED) {
  const [net, bits] = cidr.split('/');
  reference.addSubnet(net!, Number(bits), 'ipv4');
}

describe('specialRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared address space (carrier-grade NAT)'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:a00:1]', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['example.com', 'not an IP address'],
    ['1.2.3', 'not an IP address'],
    ['01.2.3.4', 'not an IP address'],
    ['1::2::3', 'not an IP address'],
    ['1:2:3:4:5:6:7:8:9', 'not an IP address'],
  ])('%s is %s', (ip, range) => {
    expect(specialRange(ip)).toBe(range);
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001:82b::200e', '1:2:3:4:5:6:7:8'])('%s is public', (ip) => {
    expect(specialRange(ip)).toBeUndefined();
    expect(isPublicAddress(ip)).toBe(true);
  });

  it('agrees with node:net BlockList on every IPv4 address, and on its IPv4-mapped IPv6 form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const ip = dotted(n);
        const expected = !reference.check(ip, 'ipv4');
        expect(isPublicAddress(ip)).toBe(expected);
        expect(isPublicAddress(`::ffff:${ip}`)).toBe(expected);
        expect(isPublicAddress(`::ffff:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('judges an IPv6 address the same in its full form and in the compressed form URL gives it', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16)).join(':');
        const normalized = new URL(`http://[${full}]/`).hostname;
        expect(specialRange(normalized)).toBe(specialRange(full));
        expect(specialRange(full)).not.toBe('not an IP address');
      }),
      { numRuns: 2000 },
    );
  });

  it('catches the IPv4 spellings WHATWG URL normalizes (decimal, octal, hex, short forms)', () => {
    for (const spelled of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1', '017700000001', '0xa.0.0.1']) {
      const host = new URL(`http://${spelled}/`).hostname;
      expect(isAddressLiteral(host), spelled).toBe(true);
      expect(isPublicAddress(host), spelled).toBe(false);
    }
  });
});

describe('host names', () => {
  it('knows address literals from names', () => {
    expect(isAddressLiteral('[::1]')).toBe(true);
    expect(isAddressLiteral('10.0.0.1')).toBe(true);
    expect(isAddressLiteral('checks.example.com')).toBe(false);
    expect(isAddressLiteral('1.2.3.4.example')).toBe(false);
  });

  it('treats localhost and its subdomains as loopback names', () => {
    expect(isLocalhostName('localhost')).toBe(true);
    expect(isLocalhostName('LOCALHOST.')).toBe(true);
    expect(isLocalhostName('api.localhost')).toBe(true);
    expect(isLocalhostName('localhost.example.com')).toBe(false);
  });
});
