import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisVelocity, type VelocityRead } from '../src/abuse/index.js';
import { T0, velocityContract } from '../src/abuse/test-helpers.js';
import { freePort, hasRedis, startRedis, stopRedis } from './support/redis.js';

// Issue 15 item 2, the Redis option: the velocity contract the memory store passes, on a Redis of the
// test's own; two replicas over one Redis share counts; a Redis that dies makes observe fail closed
// with a coded error within the timeout, and the store works again once Redis is back.
const count = (key: string): VelocityRead => ({ key, kind: 'count', windowMs: 60_000 });

describe.skipIf(!hasRedis)('velocity in Redis', () => {
  let redis: ChildProcess;
  let port: number;
  let url: string;
  let stores = 0;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    url = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (redis) await stopRedis(redis);
  });

  describe('the contract', () => {
    // Each store gets a prefix of its own, so no test sees another's counts.
    velocityContract(() => connectRedisVelocity(url, { prefix: `t${process.pid}.${Date.now()}.${++stores}:` }));
  });

  it('bounds distinct members per key at maxDistinct, the least recently seen first', async () => {
    const v = connectRedisVelocity(url, { prefix: 'maxd:', maxDistinct: 3 });
    const d = (member: string): VelocityRead => ({ key: 'd', kind: 'distinct', windowMs: 60_000, member });
    const out: number[] = [];
    for (const [i, m] of ['a', 'b', 'c', 'a', 'd', 'e', 'b'].entries()) out.push(...(await v.observe([d(m)], T0 + i)));
    expect(out).toEqual([1, 2, 3, 3, 3, 3, 3]);
    expect(await v.peek([{ key: 'd', kind: 'distinct', windowMs: 60_000 }], T0 + 60_004)).toEqual([2]);
    expect(v.size()).toBe(-1);
    await v.close();
  });

  it('two replicas over one Redis share counts', async () => {
    const a = connectRedisVelocity(url, { prefix: 'shared:' });
    const b = connectRedisVelocity(url, { prefix: 'shared:' });
    const d = (member: string): VelocityRead => ({ key: 'repos', kind: 'distinct', windowMs: 600_000, member });
    expect(await a.observe([count('agent-1'), d('r1')], T0)).toEqual([1, 1]);
    expect(await b.observe([count('agent-1'), d('r2')], T0 + 10)).toEqual([2, 2]);
    expect(await a.observe([count('agent-1'), d('r1')], T0 + 20)).toEqual([3, 2]);
    expect(await b.peek([count('agent-1'), d('r3')], T0 + 30)).toEqual([3, 2]);
    // Concurrent observes from both replicas: no event is lost.
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).observe([count('agent-2')], T0 + i)));
    expect(await a.peek([count('agent-2')], T0 + 100)).toEqual([50]);
    await a.close();
    await b.close();
  });

  it('Redis down: observe and peek reject with abuse.velocity_unavailable within the timeout, and work again once it is back', async () => {
    const ownPort = await freePort();
    let own = await startRedis(ownPort);
    const v = connectRedisVelocity(`redis://127.0.0.1:${ownPort}`, { timeoutMs: 200 });
    expect(await v.observe([count('k')], T0)).toEqual([1]);
    await stopRedis(own);
    for (const call of [() => v.observe([count('k')], T0 + 1), () => v.peek([count('k')], T0 + 1)]) {
      const t0 = performance.now();
      await expect(call()).rejects.toMatchObject({ code: 'abuse.velocity_unavailable', name: 'WardenError' });
      // The wait for a connection is bounded by the timeout; the margin is for a loaded runner.
      expect(performance.now() - t0).toBeLessThan(1_500);
    }
    // Back (empty: the server keeps nothing on disk); the client reconnects by itself within a second.
    own = await startRedis(ownPort);
    let value: number[] | undefined;
    for (let i = 0; i < 40 && value === undefined; i++) {
      value = await v.observe([count('k')], T0 + 2).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(value).toEqual([1]);
    expect(await v.observe([count('k')], T0 + 3)).toEqual([2]);
    await v.close();
    await stopRedis(own);
  });

  it('a Redis never reached fails closed too, within the timeout', async () => {
    const v = connectRedisVelocity(`redis://127.0.0.1:${await freePort()}`, { timeoutMs: 200 });
    const t0 = performance.now();
    await expect(v.observe([count('k')], T0)).rejects.toMatchObject({ code: 'abuse.velocity_unavailable' });
    expect(performance.now() - t0).toBeLessThan(1_500);
    await v.close();
  });
});
