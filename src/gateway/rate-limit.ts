import { Redis } from 'ioredis';
import { compileGlobs, WardenError, isWardenError, type ErrorCode, type GlobMatcher } from '../domain/index.js';
import { messageOf } from './error-message.js';
import type { GatewayLogger, GovernedKind, RateLimiter } from './ports.js';

/** One limit: at most `limit` calls per `windowMs` for each matching agent (and tool, when `per` says so). */
export interface RateLimitRule {
  /** Globs over agent ids. @default ["*"] */
  agents?: string[] | undefined;
  /**
   * Globs over qualified tool names (`server.tool`). A rule that names none of `tools`, `resources`
   * and `prompts` counts every governed request (calls, reads and prompt gets); one that names some
   * counts only those kinds.
   */
  tools?: string[] | undefined;
  /** Globs over resource URIs as the upstream serves them (`file:///logs/*`). */
  resources?: string[] | undefined;
  /** Globs over qualified prompt names (`server.prompt`). */
  prompts?: string[] | undefined;
  limit: number;
  windowMs: number;
  /** `agent`: one counter per agent across what the rule matches; `agent-tool`: one per agent and tool, resource or prompt. @default 'agent-tool' */
  per?: 'agent' | 'agent-tool' | undefined;
}

/**
 * Globs over names, as in policy (`*` matches any run of characters); no globs match everything.
 * `foldCase` for names an upstream chooses (tools, prompts), as policy `match.tools` does, so a limit
 * cannot be dodged by a server naming its tool `Delete_All`.
 */
export function globMatcher(globs: readonly string[] | undefined, opts: { foldCase?: boolean } = {}): GlobMatcher {
  if (!globs || globs.length === 0) return () => true;
  return compileGlobs(globs, opts);
}

/** Why rate limits refused a request: it is over a limit, or the limiter could not count it (fail closed). */
export interface RateLimitRefusal {
  refusal: 'rate_limited' | 'rate_limiter_unavailable';
  /** One sentence for the agent. */
  message: string;
  /** The catalogue code of a limiter failure (`gateway.rate_limiter_unavailable`). */
  code?: ErrorCode | undefined;
}

/** The configured limits, compiled: which one a request breaks, if any. */
export interface RateLimits {
  /**
   * Counts one request of `agentId` on `name` against every rule that matches it; the refusal of the
   * first one exceeded, or a `rate_limiter_unavailable` refusal when the counter store fails. Never throws.
   */
  check(agentId: string, kind: GovernedKind, name: string): Promise<RateLimitRefusal | undefined>;
}

/** Compiles limit rules over a counter store; with no store, nothing is ever limited. */
export function compileRateLimits(rules: readonly RateLimitRule[], limiter: RateLimiter | undefined): RateLimits {
  // Per kind of request, the names a rule counts: all of them when it names no kind at all.
  const limits = rules.map((r, i) => {
    const any = !r.tools && !r.resources && !r.prompts;
    const of = (globs: string[] | undefined, foldCase: boolean) => (any || globs ? globMatcher(globs, { foldCase }) : () => false);
    const targets: Record<GovernedKind, GlobMatcher> = { 'tool.call': of(r.tools, true), 'resource.read': of(r.resources, false), 'prompt.get': of(r.prompts, true) };
    return { ...r, i, agent: globMatcher(r.agents), targets };
  });
  return {
    async check(agentId, kind, name) {
      if (!limiter) return undefined;
      for (const l of limits) {
        if (!l.agent(agentId) || !l.targets[kind](name)) continue;
        const key = l.per === 'agent' ? `${l.i}:${agentId}` : `${l.i}:${agentId}:${name}`;
        let r: Awaited<ReturnType<RateLimiter['hit']>>;
        try {
          r = await limiter.hit(key, l.limit, l.windowMs);
        } catch (err) {
          // INVARIANT: fail closed. A request under a limit that cannot be counted is refused, never let through.
          const message = isWardenError(err) ? err.message : `the rate limiter failed (${messageOf(err)}), so Warden refused this request rather than let it through uncounted; retry later`;
          return { refusal: 'rate_limiter_unavailable', code: 'gateway.rate_limiter_unavailable', message };
        }
        if (!r.ok) return { refusal: 'rate_limited', message: `rate limit of ${l.limit} calls per ${l.windowMs} ms exceeded for agent \`${agentId}\`${l.per === 'agent' ? '' : ` on \`${name}\``}; retry in ${Math.ceil(r.resetMs)} ms` };
      }
      return undefined;
    },
  };
}

/** Fixed-window counters in this process's memory; windows are aligned to the epoch so replicas agree. */
export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const counters = new Map<string, { window: number; count: number }>();
  let sweeps = 0;
  return {
    async hit(key, limit, windowMs) {
      const t = now();
      const window = Math.floor(t / windowMs);
      const c = counters.get(key);
      const count = c && c.window === window ? c.count + 1 : 1;
      counters.set(key, { window, count });
      // Drop stale windows now and then, so idle keys do not accumulate.
      if (++sweeps % 10_000 === 0) for (const [k, v] of counters) if (v.window < window - 1) counters.delete(k);
      return { ok: count <= limit, count, resetMs: (window + 1) * windowMs - t };
    },
  };
}

/** The narrow slice of ioredis the Redis limiter uses. */
export interface RedisLike {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  quit(): Promise<unknown>;
  /** Drops the connection and stops reconnecting. */
  disconnect(): void;
  /** `ready` while connected. */
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** Options of the Redis limiter. */
export interface RedisRateLimiterOptions {
  /** @default 'warden:rl:' */
  prefix?: string | undefined;
  now?: (() => number) | undefined;
  /** Longest a hit waits for Redis (to connect and to answer) before it fails with `gateway.rate_limiter_unavailable`. @default 500 */
  timeoutMs?: number | undefined;
}

// INCR and PEXPIRE in one round trip and atomically, so a crash between them cannot leave a key without expiry.
const HIT = `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n`;

/**
 * Fixed-window counters in Redis, shared by every gateway replica that points at it. A hit that gets
 * no answer within `timeoutMs` (Redis down, unreachable or stalled) throws `gateway.rate_limiter_unavailable`,
 * which the governed flow turns into a refusal: rate limits fail closed.
 */
export function createRedisRateLimiter(redis: RedisLike, opts: RedisRateLimiterOptions = {}): RateLimiter {
  const prefix = opts.prefix ?? 'warden:rl:';
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 500;
  const count = async (key: string, windowMs: number, window: number): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    const attempt = (async () => {
      // While (re)connecting, wait for the connection within the same deadline rather than fail at once.
      // A lazy client (`wait`) connects on its first command, so it is sent the command, not made to wait.
      if (redis.status !== 'ready' && redis.status !== 'wait') await new Promise<void>((resolve) => redis.once('ready', (onReady = resolve)));
      return Number(await redis.eval(HIT, 1, `${prefix}${key}:${windowMs}:${window}`, windowMs));
    })();
    attempt.catch(() => {}); // settled after the deadline won: nobody is listening any more
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([attempt, deadline]);
    } catch (err) {
      throw new WardenError('gateway.rate_limiter_unavailable', `Warden could not reach Redis, which holds the rate-limit counters, within ${timeoutMs} ms, so it refused this request rather than let it through uncounted; retry once Redis is back`, {
        cause: err,
        help: 'check that Redis is running at the `redis` URL of the gateway config; the gateway reconnects by itself',
      });
    } finally {
      clearTimeout(timer);
      if (onReady) redis.off('ready', onReady);
    }
  };
  return {
    async hit(key, limit, windowMs) {
      const t = now();
      const window = Math.floor(t / windowMs);
      const n = await count(key, windowMs, window);
      return { ok: n <= limit, count: n, resetMs: (window + 1) * windowMs - t };
    },
    async close() {
      // A quit that cannot be sent (Redis down or stalled) must still stop the reconnection loop.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * A Redis limiter over its own connection to `url`. Commands never queue while the connection is
 * down (they fail at once, and a hit waits at most `timeoutMs`), the client reconnects by itself
 * (at most a second between attempts), and its errors go to `logger` as one line per outage instead
 * of ioredis' own output on stderr.
 */
export function connectRedisRateLimiter(url: string, opts: Omit<RedisRateLimiterOptions, 'now'> & { logger?: GatewayLogger | undefined } = {}): RateLimiter {
  const timeoutMs = opts.timeoutMs ?? 500;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  const host = hostOf(url);
  let down = false;
  let closing = false;
  const lost = (why: string) => {
    if (down || closing) return;
    down = true;
    opts.logger?.warn({ err: why, redis: host, code: 'gateway.rate_limiter_unavailable' }, 'lost the connection to Redis; requests under a rate limit are refused until it is back');
  };
  // INVARIANT: a listener on `error` is what keeps ioredis from printing `[ioredis] Unhandled error event` lines.
  redis.on('error', (err: unknown) => lost(messageOf(err)));
  redis.on('close', () => lost('the connection closed'));
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    opts.logger?.info({ redis: host }, 'reconnected to Redis; rate limits are counted again');
  });
  const limiter = createRedisRateLimiter(redis, { prefix: opts.prefix, timeoutMs });
  return {
    hit: (key, limit, windowMs) => limiter.hit(key, limit, windowMs),
    async close() {
      closing = true;
      await limiter.close?.();
    },
  };
}

/** The host and port of a Redis URL, without its credentials, for logs. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'redis';
  }
}
