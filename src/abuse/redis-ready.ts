import type { Redis } from 'ioredis';

/**
 * Resolves once the connection is ready, or after `timeoutMs` whatever its state: commands are not
 * queued while disconnected (a queue would hold decisions), so a call made while the connection is
 * being made waits for it, at most the timeout, and then fails on its own.
 */
export async function readyWithin(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(t);
      redis.off('ready', done);
      resolve();
    }
    redis.once('ready', done);
  });
}
