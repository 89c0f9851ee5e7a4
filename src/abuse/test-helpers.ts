import { expect, it } from 'vitest';
import type { VelocityRead, VelocityStore } from './velocity.js';

/** A time on a bucket boundary of every window the contract uses (60 s / 30 buckets = 2 s buckets). */
export const T0 = 1_700_000_000_000;
const MIN = 60_000;

const count = (key: string, windowMs = MIN): VelocityRead => ({ key, kind: 'count', windowMs });
const rate = (key: string, windowMs = MIN): VelocityRead => ({ key, kind: 'rate', windowMs });
const distinct = (key: string, member?: string, windowMs = MIN): VelocityRead => (member === undefined ? { key, kind: 'distinct', windowMs } : { key, kind: 'distinct', windowMs, member });

/**
 * STYLE §2: one contract, run against every VelocityStore (memory in src/abuse/velocity.test.ts,
 * Redis in test/velocity-redis.test.ts). `make` returns a store with default buckets (30 per window)
 * and keys of its own (no other test's counts in it); the contract closes it.
 */
export function velocityContract(make: () => VelocityStore | Promise<VelocityStore>): void {
  it('count and rate: each observe returns the value including its own event', async () => {
    const v = await make();
    expect(await v.observe([count('c'), rate('r')], T0)).toEqual([1, 1 / 60]);
    expect(await v.observe([count('c'), rate('r')], T0 + 1_000)).toEqual([2, 2 / 60]);
    expect(await v.observe([count('c'), rate('r')], T0 + 5_000)).toEqual([3, 3 / 60]);
    expect(await v.observe([count('c')], T0 + 59_000)).toEqual([4]);
    // A 1 s window: 30 buckets of 34 ms, 29 of them summed.
    expect(await v.observe([rate('r1s', 1_000), rate('r1s', 1_000)], T0)).toEqual([1, 2]);
    await v.close();
  });

  it('the window slides: events older than the window stop counting, bucket by bucket', async () => {
    const v = await make();
    await v.observe([count('c'), count('c')], T0);
    await v.observe([count('c')], T0 + 1_999);
    await v.observe([count('c')], T0 + 30_000);
    expect(await v.peek([count('c'), rate('c')], T0 + 59_999)).toEqual([4, 4 / 60]);
    // The bucket [T0, T0 + 2 s) is now partly outside the window: it is excluded whole (the documented
    // undercount of at most one bucket), the event at T0 + 30 s still counts.
    expect(await v.peek([count('c')], T0 + 60_000)).toEqual([1]);
    expect(await v.peek([count('c')], T0 + 89_999)).toEqual([1]);
    expect(await v.peek([count('c')], T0 + 90_000)).toEqual([0]);
    expect(await v.observe([count('c')], T0 + 90_000)).toEqual([1]);
    // Long after: everything before is gone, the key starts afresh.
    expect(await v.observe([count('c')], T0 + 3_600_000)).toEqual([1]);
    await v.close();
  });

  it('distinct: distinct members in the window, a member seen again stays in', async () => {
    const v = await make();
    const seen: number[] = [];
    for (const [m, at] of [['a', 0], ['b', 1_000], ['a', 2_000], ['c', 3_000], ['c', 4_000]] as const) seen.push(...(await v.observe([distinct('d', m)], T0 + at)));
    expect(seen).toEqual([1, 2, 2, 3, 3]);
    // An event without a member records nothing under distinct but still reads it.
    expect(await v.observe([distinct('d')], T0 + 5_000)).toEqual([3]);
    await v.observe([distinct('d', 'a')], T0 + 50_000);
    // Window (atMs - 60 s, atMs]: b (1 s) goes at 61 s; c (4 s) at 64 s; a (50 s) at 110 s.
    expect(await v.peek([distinct('d')], T0 + 60_999)).toEqual([3]);
    expect(await v.peek([distinct('d')], T0 + 61_000)).toEqual([2]);
    expect(await v.peek([distinct('d')], T0 + 64_000)).toEqual([1]);
    expect(await v.observe([distinct('d', 'b')], T0 + 70_000)).toEqual([2]);
    expect(await v.peek([distinct('d')], T0 + 110_000)).toEqual([1]);
    expect(await v.peek([distinct('d')], T0 + 130_000)).toEqual([0]);
    await v.close();
  });

  it('peek records nothing', async () => {
    const v = await make();
    expect(await v.peek([count('c'), rate('r'), distinct('d', 'x')], T0)).toEqual([0, 0, 0]);
    expect(await v.peek([count('c'), rate('r'), distinct('d', 'x')], T0)).toEqual([0, 0, 0]);
    expect(await v.observe([count('c'), rate('r'), distinct('d', 'x')], T0)).toEqual([1, 1 / 60, 1]);
    expect(await v.peek([count('c'), rate('r'), distinct('d', 'y')], T0 + 1)).toEqual([1, 1 / 60, 1]);
    expect(await v.peek([count('c'), rate('r'), distinct('d', 'y')], T0 + 2)).toEqual([1, 1 / 60, 1]);
    await v.close();
  });

  it('many keys in one observe: values in order, keys apart, a key read twice counts twice', async () => {
    const v = await make();
    await v.observe([count('a'), count('a'), count('b')], T0);
    expect(await v.observe([count('b'), distinct('d', 'x'), count('a'), rate('r'), distinct('d', 'y'), count('a')], T0 + 1)).toEqual([2, 1, 3, 1 / 60, 2, 4]);
    expect(await v.observe([], T0 + 2)).toEqual([]);
    await v.close();
  });

  it('keys of any characters stay apart', async () => {
    const v = await make();
    const keys = ['a', 'a:1', 'a\u0000', 'a\n', '\ud800', '\udc00', '\ufffd', 'é', 'e\u0301', '"a"', 'x'.repeat(512), 'x'.repeat(511) + 'y', '🙂'];
    for (let i = 0; i < keys.length; i++) await v.observe(Array.from({ length: i + 1 }, () => count(keys[i]!)), T0);
    expect(await v.peek(keys.map((k) => count(k)), T0)).toEqual(keys.map((_, i) => i + 1));
    await v.close();
  });

  it('an input of 10 000 reads', async () => {
    const v = await make();
    const reads = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? count(`k${i}`) : distinct('d', `m${i}`)));
    const first = await v.observe(reads, T0);
    expect(first.filter((x, i) => i % 2 === 0 && x === 1)).toHaveLength(5_000);
    expect(first.filter((_, i) => i % 2 === 1)).toEqual(Array.from({ length: 5_000 }, (_, j) => j + 1));
    const second = await v.observe(reads, T0 + 1_000);
    expect(second.filter((x, i) => i % 2 === 0 && x === 2)).toHaveLength(5_000);
    expect(second.filter((x, i) => i % 2 === 1 && x === 5_000)).toHaveLength(5_000);
    await v.close();
  });
}
