import type pg from 'pg';
import type { ReleaseFeed } from '../policies/tenant-sets.js';
import { POLICY_CHANNEL } from './policy-repo.js';

/**
 * Release changes announced by other replicas, over PostgreSQL LISTEN on one connection held out of
 * the pool. A dropped connection is replaced after a pause (the tenant sets' poll covers what was
 * announced meanwhile); `onTenant` also runs after each reconnect, with `*`, so the caller re-reads.
 */
export function createPgReleaseFeed(pool: pg.Pool, logger: { warn(obj: object, msg: string): void }, retryMs = 1000): ReleaseFeed {
  let client: pg.PoolClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let handler: ((tenantId: string) => void) | undefined;

  const connect = async (): Promise<void> => {
    const c = await pool.connect();
    if (closed) {
      c.release();
      return;
    }
    const drop = (err?: unknown) => {
      if (client !== c) return;
      client = undefined;
      c.release(true);
      if (closed) return;
      logger.warn({ err: String(err ?? 'connection ended') }, 'policy change listener lost its connection; reconnecting');
      timer = setTimeout(() => void reconnect(), retryMs);
      timer.unref();
    };
    c.on('notification', (n) => {
      if (n.channel === POLICY_CHANNEL && n.payload) handler?.(n.payload);
    });
    c.on('error', drop);
    c.on('end', () => drop());
    client = c;
    await c.query(`LISTEN ${POLICY_CHANNEL}`);
  };

  const reconnect = async () => {
    try {
      await connect();
      handler?.('*');
    } catch (err) {
      if (closed) return;
      logger.warn({ err: String(err) }, 'policy change listener could not reconnect; retrying');
      timer = setTimeout(() => void reconnect(), retryMs);
      timer.unref();
    }
  };

  return {
    async listen(onTenant) {
      handler = onTenant;
      await connect();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) {
        await c.query(`UNLISTEN ${POLICY_CHANNEL}`).catch(() => {});
        c.release();
      }
    },
  };
}
