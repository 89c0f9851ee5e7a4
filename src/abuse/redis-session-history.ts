import { Redis } from 'ioredis';
import { readyWithin } from './redis-ready.js';
import type { SessionHistoryPort, SessionKey } from '../checkpoint/index.js';
import { WardenError, type SessionStep, type SessionView } from '../domain/index.js';

/** What output inspection found in a call's result, kept beside the session's steps. */
interface OutputFindings {
  tool: { server: string; name: string };
  findings: SessionStep['findings'];
}

/** Bounds and connection of the Redis session history. */
export interface RedisSessionHistoryOptions {
  /** Steps kept per session, newest kept. @default 64 */
  maxSteps?: number;
  /** A session untouched this long is forgotten (the key's expiry). @default 3600000 (1 h) */
  idleMs?: number;
  /** How long one read or write may take before the decision fails closed. @default 500 */
  timeoutMs?: number;
  /** Key prefix. @default 'warden:session:' */
  prefix?: string;
  logger?: { warn(obj: object, msg: string): void } | undefined;
}

/**
 * Session histories in Redis, so replicas behind a load balancer see one session whole: one list per
 * session (JSON steps, newest last, trimmed to `maxSteps`, expiring when idle). A Redis that does not
 * answer fails the decision closed (`session.unavailable`): a flow rule must not pass for lack of
 * history.
 */
export function connectRedisSessionHistory(url: string, opts: RedisSessionHistoryOptions = {}): SessionHistoryPort & { close(): Promise<void> } {
  const maxSteps = opts.maxSteps ?? 64;
  const idleMs = opts.idleMs ?? 3_600_000;
  const prefix = opts.prefix ?? 'warden:session:';
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: opts.timeoutMs ?? 500, retryStrategy: (times) => Math.min(times * 100, 1000), lazyConnect: false });
  let warned = false;
  // INVARIANT: a listener on `error` is what keeps ioredis from printing unhandled error lines.
  redis.on('error', (err: unknown) => {
    if (warned) return;
    warned = true;
    opts.logger?.warn({ err: err instanceof Error ? err.message : String(err), code: 'session.unavailable' }, 'lost the connection to Redis; decisions that need session history are refused until it is back');
  });
  redis.on('ready', () => (warned = false));
  const timeoutMs = opts.timeoutMs ?? 500;
  const ready = () => readyWithin(redis, timeoutMs);
  const keyOf = (k: SessionKey) => `${prefix}${encodeURIComponent(k.tenantId)}:${encodeURIComponent(k.agentId)}:${encodeURIComponent(k.sessionId)}`;
  const failed = (err: unknown): never => {
    throw new WardenError('session.unavailable', `the session history (Redis) did not answer, so the decision fails closed: ${err instanceof Error ? err.message : String(err)}`);
  };

  return {
    async view(k): Promise<SessionView> {
      const key = keyOf(k);
      await ready();
      const replies = await redis.multi().lrange(key, 0, -1).lrange(`${key}:out`, 0, -1).exec().catch(failed);
      const [steps, outs] = (replies ?? []).map(([err, v]) => (err ? failed(err) : (v as string[])));
      const history = (steps ?? []).map((r) => JSON.parse(r) as SessionStep);
      // Output findings are kept beside the steps (appending never rewrites a step, so replicas cannot
      // lose each other's writes) and joined to the latest step of the same tool as they are read.
      for (const r of outs ?? []) {
        const o = JSON.parse(r) as OutputFindings;
        for (let i = history.length - 1; i >= 0; i--) {
          const step = history[i]!;
          if (step.tool.server !== o.tool.server || step.tool.name !== o.tool.name) continue;
          history[i] = { ...step, findings: [...step.findings, ...o.findings] };
          break;
        }
      }
      return { id: k.sessionId, history, labels: [] };
    },
    async record(k, step) {
      const key = keyOf(k);
      await ready();
      await redis.multi().rpush(key, JSON.stringify(step)).ltrim(key, -maxSteps, -1).pexpire(key, idleMs).pexpire(`${key}:out`, idleMs).exec().catch(failed);
    },
    async addOutputFindings(k, tool, findings) {
      if (findings.length === 0) return;
      const out = `${keyOf(k)}:out`;
      await ready();
      const entry: OutputFindings = { tool, findings };
      await redis.multi().rpush(out, JSON.stringify(entry)).ltrim(out, -maxSteps, -1).pexpire(out, idleMs).exec().catch(failed);
    },
    async close() {
      redis.disconnect();
    },
  };
}
