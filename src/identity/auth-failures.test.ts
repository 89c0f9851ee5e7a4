import { describe, expect, it } from 'vitest';
import { fakeClock } from '../../test/support/fake-clock.js';
import { clientKeyOf, createAuthFailureLimiter, rateLimitedError } from './auth-failures.js';
import { STATUS_OF } from '../api/errors.js';

describe('failed-authentication limiter', () => {
  it('blocks an address at its limit, says how long to wait, and lets it in again when the window ends', () => {
    const clock = fakeClock();
    const limiter = createAuthFailureLimiter({ max: 3, windowMs: 60_000, clock });
    for (let i = 0; i < 3; i++) {
      expect(limiter.blocked('203.0.113.7')).toBeUndefined();
      limiter.failed('203.0.113.7');
      clock.advance(1_000);
    }
    // Three failures at 0 s, 1 s and 2 s; it is now 3 s into the window that opened at the first.
    expect(limiter.blocked('203.0.113.7')).toBe(57);
    expect(limiter.blocked('203.0.113.8')).toBeUndefined();
    clock.advance(56_500);
    expect(limiter.blocked('203.0.113.7')).toBe(1);
    clock.advance(500);
    expect(limiter.blocked('203.0.113.7')).toBeUndefined();
    // A new window: one more failure does not block again.
    limiter.failed('203.0.113.7');
    expect(limiter.blocked('203.0.113.7')).toBeUndefined();
  });

  it('defaults to 20 failures a minute', () => {
    const clock = fakeClock();
    const limiter = createAuthFailureLimiter({ clock });
    for (let i = 0; i < 19; i++) limiter.failed('198.51.100.1');
    expect(limiter.blocked('198.51.100.1')).toBeUndefined();
    limiter.failed('198.51.100.1');
    expect(limiter.blocked('198.51.100.1')).toBe(60);
    clock.advance(60_000);
    expect(limiter.blocked('198.51.100.1')).toBeUndefined();
  });

  it('forgets the failures of an address that then authenticates', () => {
    const limiter = createAuthFailureLimiter({ max: 2, clock: fakeClock() });
    limiter.failed('192.0.2.1');
    limiter.succeeded('192.0.2.1');
    limiter.failed('192.0.2.1');
    expect(limiter.blocked('192.0.2.1')).toBeUndefined();
    limiter.failed('192.0.2.1');
    expect(limiter.blocked('192.0.2.1')).toBeGreaterThan(0);
  });

  it('tracks at most maxAddresses, forgetting the one that failed least recently', () => {
    const limiter = createAuthFailureLimiter({ max: 1, maxAddresses: 3, clock: fakeClock() });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) limiter.failed(ip);
    // 10.0.0.1 fails again, so 10.0.0.2 is now the least recent and goes when a fourth arrives.
    limiter.failed('10.0.0.1');
    limiter.failed('10.0.0.4');
    expect(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => limiter.blocked(ip) !== undefined)).toEqual([true, false, true, true]);
    // A flood of new addresses never grows the table past its bound: the first ones are forgotten.
    for (let i = 0; i < 1000; i++) limiter.failed(`172.16.${i >> 8}.${i & 255}`);
    expect(limiter.blocked('10.0.0.1')).toBeUndefined();
    expect(limiter.blocked('172.16.3.231')).toBeGreaterThan(0);
  });

  it('counts an IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 address', () => {
    const limiter = createAuthFailureLimiter({ max: 2, clock: fakeClock() });
    limiter.failed('2001:db8:1:2::1');
    limiter.failed('2001:DB8:1:2:ffff:ffff:ffff:fffe');
    expect(limiter.blocked('2001:db8:1:2:abcd::9')).toBeGreaterThan(0);
    expect(limiter.blocked('2001:db8:1:3::1')).toBeUndefined();
    limiter.failed('::ffff:192.0.2.9');
    limiter.failed('192.0.2.9');
    expect(limiter.blocked('192.0.2.9')).toBeGreaterThan(0);
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(clientKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    // Not an address (a test's inject, a Unix socket): counted under its own text.
    expect(clientKeyOf('not-an-ip')).toBe('not-an-ip');
    expect(clientKeyOf('1:2:3')).toBe('1:2:3');
  });

  it('names the 429 the auth hook answers with', () => {
    const err = rateLimitedError(42);
    expect(err).toMatchObject({ code: 'auth.rate_limited', message: 'too many failed authentications from this address; retry in 42 s' });
    expect(STATUS_OF[err.code]).toBe(429);
  });
});
