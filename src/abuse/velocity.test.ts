import { describe, expect, it } from 'vitest';
import { T0, velocityContract } from './test-helpers.js';
import { bucketsOf, createMemoryVelocity } from './velocity.js';

const count = (key: string, windowMs = 60_000) => ({ key, kind: 'count', windowMs }) as const;

describe('memory velocity: the contract', () => {
  velocityContract(() => createMemoryVelocity());
});

describe('memory velocity: bounds', () => {
  it('cuts a window into whole buckets that never reach past it', () => {
    expect(bucketsOf(60_000, 30)).toEqual({ width: 2_000, n: 30 });
    expect(bucketsOf(1_000, 30)).toEqual({ width: 34, n: 29 });
    expect(bucketsOf(10, 30)).toEqual({ width: 1, n: 10 });
    expect(bucketsOf(600_000, 1)).toEqual({ width: 600_000, n: 1 });
  });

  it('forgets the least recently observed key past maxKeys', async () => {
    const v = createMemoryVelocity({ maxKeys: 3 });
    await v.observe([count('a'), count('b'), count('c')], T0);
    await v.observe([count('a')], T0 + 1);
    expect(v.size()).toBe(3);
    await v.observe([count('d')], T0 + 2);
    expect(v.size()).toBe(3);
    // b was the least recently observed: it starts over; a kept its two events.
    expect(await v.peek([count('a'), count('b'), count('c'), count('d')], T0 + 3)).toEqual([2, 0, 1, 1]);
    await v.observe([count('b')], T0 + 4);
    expect(await v.peek([count('a'), count('b'), count('c'), count('d')], T0 + 5)).toEqual([2, 1, 0, 1]);
  });

  it('keeps at most maxKeys keys under a flood of new ones', async () => {
    const v = createMemoryVelocity({ maxKeys: 1_000 });
    for (let i = 0; i < 50; i++) await v.observe(Array.from({ length: 100 }, (_, j) => count(`k${i}-${j}`)), T0 + i);
    expect(v.size()).toBe(1_000);
    // The newest thousand are the ones kept.
    expect(await v.peek([count('k49-99'), count('k40-0'), count('k39-99')], T0 + 50)).toEqual([1, 1, 0]);
  });

  it('drops keys whose buckets all lie before their window (swept from the least recently observed end)', async () => {
    const v = createMemoryVelocity();
    await v.observe([count('a', 1_000), { key: 'd', kind: 'distinct', windowMs: 1_000, member: 'x' }, count('b', 60_000)], T0);
    expect(v.size()).toBe(3);
    await v.observe([count('c', 60_000)], T0 + 5_000);
    expect(v.size()).toBe(2);
    await v.observe([count('c', 60_000)], T0 + 70_000);
    expect(v.size()).toBe(1);
    await v.close();
    expect(v.size()).toBe(0);
  });

  it('bounds distinct members per key at maxDistinct, forgetting the least recently seen (and then undercounts)', async () => {
    const v = createMemoryVelocity({ maxDistinct: 3 });
    const d = (member: string) => ({ key: 'd', kind: 'distinct', windowMs: 60_000, member }) as const;
    const out: number[] = [];
    for (const [i, m] of ['a', 'b', 'c', 'a', 'd', 'e', 'b'].entries()) out.push(...(await v.observe([d(m)], T0 + i)));
    // a b c → 3; a refreshed; d pushes out b; e pushes out c; b is back (pushing out a): 5 distinct seen, 3 told.
    expect(out).toEqual([1, 2, 3, 3, 3, 3, 3]);
    expect(await v.peek([{ key: 'd', kind: 'distinct', windowMs: 60_000 }], T0 + 59_999)).toEqual([3]);
    // What is kept is d (4), e (5), b (6).
    expect(await v.peek([{ key: 'd', kind: 'distinct', windowMs: 60_000 }], T0 + 60_004)).toEqual([2]);
  });

  it('a key read with another kind or window starts afresh', async () => {
    const v = createMemoryVelocity();
    await v.observe([count('k'), count('k')], T0);
    expect(await v.peek([count('k', 30_000)], T0)).toEqual([0]);
    expect(await v.observe([count('k', 30_000)], T0)).toEqual([1]);
    expect(await v.observe([{ key: 'k', kind: 'distinct', windowMs: 30_000, member: 'm' }], T0)).toEqual([1]);
  });

  it('an event older than the newest of its key counts in its own window', async () => {
    const v = createMemoryVelocity();
    await v.observe([count('k')], T0 + 10_000);
    // The window ends at the event's own time: the later event is not in it.
    expect(await v.observe([count('k')], T0 + 5_000)).toEqual([1]);
    expect(await v.peek([count('k')], T0 + 9_999)).toEqual([1]);
    expect(await v.peek([count('k')], T0 + 10_000)).toEqual([2]);
    // More than a window older than the newest: counted only in its own answer.
    expect(await v.observe([count('k')], T0 - 60_000)).toEqual([1]);
    expect(await v.peek([count('k')], T0 + 10_000)).toEqual([2]);
  });

  it('keeps evicting past maxKeys, where every new key evicts one (speed is measured in bench/abuse)', async () => {
    const v = createMemoryVelocity({ maxKeys: 20_000 });
    // Eviction walking over deleted Map entries once made this quadratic: minutes instead of a fraction
    // of a second, so the test's timeout catches it without a timed assertion.
    for (let i = 0; i < 1_000; i++) await v.observe(Array.from({ length: 200 }, (_, j) => count(`k${i}-${j}`)), T0 + i);
    expect(v.size()).toBe(20_000);
    expect(await v.peek([count('k999-199')], T0 + 999)).toEqual([1]);
    expect(await v.peek([count('k0-0')], T0 + 999)).toEqual([0]);
  });
});
