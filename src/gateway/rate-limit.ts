import { compileGlobs, type GlobMatcher } from '../domain/index.js';
import type { GovernedKind, RateLimiter } from './ports.js';

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

/** Globs over names, as in policy (`*` matches any run of characters); no globs match everything. */
export function globMatcher(globs: readonly string[] | undefined): GlobMatcher {
  if (!globs || globs.length === 0) return () => true;
  return compileGlobs(globs);
}

/** The configured limits, compiled: which one a request breaks, if any. */
export interface RateLimits {
  /** Counts one request of `agentId` on `name` against every rule that matches it; the refusal message of the first one exceeded. */
  check(agentId: string, kind: GovernedKind, name: string): Promise<string | undefined>;
}

/** Compiles limit rules over a counter store; with no store, nothing is ever limited. */
export function compileRateLimits(rules: readonly RateLimitRule[], limiter: RateLimiter | undefined): RateLimits {
  // Per kind of request, the names a rule counts: all of them when it names no kind at all.
  const limits = rules.map((r, i) => {
    const any = !r.tools && !r.resources && !r.prompts;
    const of = (globs: string[] | undefined) => (any || globs ? globMatcher(globs) : () => false);
    const targets: Record<GovernedKind, GlobMatcher> = { 'tool.call': of(r.tools), 'resource.read': of(r.resources), 'prompt.get': of(r.prompts) };
    return { ...r, i, agent: globMatcher(r.agents), targets };
  });
  return {
    async check(agentId, kind, name) {
      if (!limiter) return undefined;
      for (const l of limits) {
        if (!l.agent(agentId) || !l.targets[kind](name)) continue;
        const key = l.per === 'agent' ? `${l.i}:${agentId}` : `${l.i}:${agentId}:${name}`;
        const r = await limiter.hit(key, l.limit, l.windowMs);
        if (!r.ok) return `rate limit of ${l.limit} calls per ${l.windowMs} ms exceeded for agent \`${agentId}\`${l.per === 'agent' ? '' : ` on \`${name}\``}; retry in ${Math.ceil(r.resetMs)} ms`;
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
}

// INCR and PEXPIRE in one round trip and atomically, so a crash between them cannot leave a key without expiry.
const HIT = `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n`;

/** Fixed-window counters in Redis, shared by every gateway replica that points at it. */
export function createRedisRateLimiter(redis: RedisLike, opts: { prefix?: string; now?: () => number } = {}): RateLimiter {
  const prefix = opts.prefix ?? 'warden:rl:';
  const now = opts.now ?? Date.now;
  return {
    async hit(key, limit, windowMs) {
      const t = now();
      const window = Math.floor(t / windowMs);
      const count = Number(await redis.eval(HIT, 1, `${prefix}${key}:${windowMs}:${window}`, windowMs));
      return { ok: count <= limit, count, resetMs: (window + 1) * windowMs - t };
    },
    async close() {
      await redis.quit();
    },
  };
}
