import { describe, expect, it } from 'vitest';
import { canonicalHostName, hostNameOfHeader } from './host-name.js';

describe('host names', () => {
  it('folds case, a trailing dot and IPv6 spellings into one form', () => {
    expect(canonicalHostName('LocalHost.')).toBe('localhost');
    expect(canonicalHostName('Warden.Example.COM')).toBe('warden.example.com');
    expect(canonicalHostName('::1')).toBe('[::1]');
    expect(canonicalHostName('[0:0:0:0:0:0:0:1]')).toBe('[::1]');
    expect(canonicalHostName('2001:DB8::0:5')).toBe('[2001:db8::5]');
    expect(canonicalHostName('my_service')).toBe('my_service');
  });

  it('refuses what is not a host name: a port, a scheme, a path, a zone id, an empty label', () => {
    for (const bad of ['', '.', 'a..b', 'https://a.example', 'a.example/x', 'a.example:80', '[::1]:80', 'fe80::1%eth0', '[::g]', '-a.example', 'a b', 'user@a.example'])
      expect(canonicalHostName(bad), bad).toBeUndefined();
  });

  it('reads a Host header: a name or a bracketed IPv6 address, with an optional port', () => {
    expect(hostNameOfHeader('localhost:8080')).toBe('localhost');
    expect(hostNameOfHeader('Warden.Example.com.:443')).toBe('warden.example.com');
    expect(hostNameOfHeader('[::1]:8080')).toBe('[::1]');
    expect(hostNameOfHeader('[::1]')).toBe('[::1]');
    expect(hostNameOfHeader('127.0.0.1:')).toBe('127.0.0.1');
    for (const bad of ['', '::1', '::1:8080', 'localhost:99999', 'localhost:80:80', 'localhost:http', 'a.example, b.example', '[::1', 'user@localhost'])
      expect(hostNameOfHeader(bad), bad).toBeUndefined();
  });
});
