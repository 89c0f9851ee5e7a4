import { WardenError, systemClock, type Clock } from '../domain/index.js';

/** Counts failed authentications per client address and says when an address must wait. */
export interface AuthFailureLimiter {
  /** Seconds until `ip` may try again when it is over the limit (at least 1), else undefined. */
  blocked(ip: string): number | undefined;
  /** Records one failed authentication from `ip`. */
  failed(ip: string): void;
  /** Forgets the failures of `ip`: a client that fixed its token is not kept waiting. */
  succeeded(ip: string): void;
}

/** Options of {@link createAuthFailureLimiter}. */
export interface AuthFailureLimiterOptions {
  /** Failures an address may make in one window; the next request waits for the window's end. @default 20 */
  max?: number;
  /** Window length, milliseconds; it opens at an address's first failure. @default 60000 */
  windowMs?: number;
  /** Addresses tracked at once; past it, the one that failed least recently is forgotten. @default 10000 */
  maxAddresses?: number;
  clock?: Clock;
}

interface Window {
  start: number;
  count: number;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The eight groups of an IPv6 address (`2001:db8::1` → 2001,db8,0,0,0,0,0,1), or undefined. */
function ipv6Groups(ip: string): string[] | undefined {
  const halves = ip.toLowerCase().split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups.map((g) => g.replace(/^0+(?=.)/, '')) : undefined;
}

/**
 * The key an address is counted under: an IPv4 address as it is (also when IPv4-mapped), an IPv6
 * address by its /64 prefix, which one host or one customer network usually holds whole; so an
 * attacker cannot rotate through its 2^64 addresses to reset its count or flood the table.
 */
export function clientKeyOf(ip: string): string {
  const mapped = IPV4_MAPPED.exec(ip);
  if (mapped) return mapped[1]!;
  const groups = ip.includes(':') ? ipv6Groups(ip.split('%')[0]!) : undefined;
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : ip;
}

/**
 * A fixed-window limit on failed authentications per client address, in bounded memory. The auth hook
 * asks `blocked(req.ip)` before it checks a credential (over the limit: 429 `auth.rate_limited` with
 * `Retry-After`), then reports `failed` or `succeeded`. A window opens at an address's first failure
 * and lasts `windowMs`, so an address makes at most `2 × max` attempts across a window boundary.
 * A token carries 160 random bits (src/identity/token-secret.ts): the limit is not what stops guessing, it bounds the cost of a flood of
 * bad credentials (each one a hash and a database read) and makes the flood visible.
 */
export function createAuthFailureLimiter(opts: AuthFailureLimiterOptions = {}): AuthFailureLimiter {
  const max = opts.max ?? 20;
  const windowMs = opts.windowMs ?? 60_000;
  const maxAddresses = opts.maxAddresses ?? 10_000;
  const clock = opts.clock ?? systemClock;
  // INVARIANT: insertion order is the order of the last failure, so the first key is the one to evict.
  const windows = new Map<string, Window>();

  function current(key: string, now: number): Window | undefined {
    const w = windows.get(key);
    if (w && now - w.start >= windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  }

  return {
    blocked(ip) {
      const now = clock.now().getTime();
      const w = current(clientKeyOf(ip), now);
      if (!w || w.count < max) return undefined;
      return Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    },
    failed(ip) {
      const key = clientKeyOf(ip);
      const now = clock.now().getTime();
      const w = current(key, now) ?? { start: now, count: 0 };
      w.count += 1;
      windows.delete(key);
      windows.set(key, w);
      while (windows.size > maxAddresses) windows.delete(windows.keys().next().value!);
    },
    succeeded(ip) {
      windows.delete(clientKeyOf(ip));
    },
  };
}

/**
 * The 429 `auth.rate_limited` the auth hook throws when {@link AuthFailureLimiter.blocked} returned
 * `retryAfterSec`; the hook sets `Retry-After: <retryAfterSec>` on the reply before it throws.
 */
export function rateLimitedError(retryAfterSec: number): WardenError {
  return new WardenError('auth.rate_limited', `too many failed authentications from this address; retry in ${retryAfterSec} s`, {
    help: 'check that the client sends a valid `Authorization: Bearer` token; every failure counts against its address',
  });
}
