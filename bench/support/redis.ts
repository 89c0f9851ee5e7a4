import { freePort, hasRedis, startRedis, stopRedis } from '../../test/support/redis.js';

/** A Redis for a bench: a private redis-server when one can be started, else the shared one on 6379 (printed, so a figure says which). */
export async function benchRedis(): Promise<{ url: string; shared: boolean; stop(): Promise<void> }> {
  if (!hasRedis) {
    console.log('redis: the shared 127.0.0.1:6379 (no redis-server to start)');
    return { url: 'redis://127.0.0.1:6379', shared: true, stop: async () => {} };
  }
  const port = await freePort();
  const child = await startRedis(port);
  console.log('redis: a private redis-server started for this run');
  return { url: `redis://127.0.0.1:${port}`, shared: false, stop: () => stopRedis(child) };
}
