import pino, { type Logger } from 'pino';
import type { CaptureOptions, Checkpoint, Stage } from '../checkpoint/index.js';
import type { PolicyProvider } from '../checkpoint/index.js';
import type { AuditSink, Clock } from '../domain/index.js';
import {
  createGateway,
  createMemoryRateLimiter,
  connectRedisRateLimiter,
  type Gateway,
  type InspectedResult,
  type Namespacing,
  type RateLimiter,
  type RateLimitRule,
  type ResultInspector,
  type UpstreamSpec,
} from '../gateway/index.js';
import type { Registry } from '../registry/index.js';
import type { Database } from '../store/index.js';
import { createCore, type Core, type DatabaseLocation } from './core.js';

/** Everything `startGateway` needs; the CLI fills it from flags and the config file (through src/config). */
export interface GatewayRuntimeOptions {
  policies: string[];
  scope: string;
  upstreams: UpstreamSpec[];
  namespacing?: Namespacing;
  /** Where the store is; `shared` runs on a core another surface built (the demo runs on the server's). */
  database: DatabaseLocation | { shared: Core };
  rateLimits?: RateLimitRule[];
  redisUrl?: string | undefined;
  /** How long a rate-limited request waits for Redis before it is refused (`gateway.rate_limiter_unavailable`). @default 500 */
  redisTimeoutMs?: number | undefined;
  /** How long registry lookups are cached (the kill switch's delay across processes). @default 500 */
  registryCacheMs?: number;
  upstreamStderr?: 'inherit' | 'ignore' | 'pipe';
  /**
   * The environment spawned upstream servers inherit (a drop-in wrapper should be transparent), less
   * Warden's own `WARDEN_*` variables, which may hold its database password or tokens; a server's
   * own `env` goes on top. `warden gateway` passes its own unless `--upstream-env minimal`.
   * @default the MCP SDK's default environment (HOME, LOGNAME, PATH, SHELL, TERM, USER)
   */
  upstreamEnv?: Readonly<Record<string, string | undefined>>;
  watchPolicies?: boolean;
  inspector?: ResultInspector;
  logger?: Logger;
  clock?: Clock;
  /** Called after each checkpoint stage of an audited pass with its duration (metrics, profiling). */
  onStage?: (stage: Stage, ms: number) => void;
  /** Call bodies the audit log keeps besides their digests (masked). @default none */
  capture?: CaptureOptions;
  /** Hosts (and subdomains) images, links and uploads may reach without an exfiltration finding. @default none */
  allowedHosts?: readonly string[];
  /** The key that signs audit checkpoints (created when missing); without one the gateway does not seal. */
  auditKeyFile?: string | undefined;
  /** Seconds between signed checkpoints. @default 60 */
  checkpointIntervalSec?: number;
  /** Seconds between retention passes. @default 3600 */
  retentionIntervalSec?: number;
  /** A `kind: Registry` file imported at start. */
  registryFile?: string | undefined;
}

/** A started gateway and the parts tests and commands reach into. */
export interface GatewayRuntime {
  gateway: Gateway;
  /** The core it runs on (its own, or the one it shares). */
  core: Core;
  registry: Registry;
  checkpoint: Checkpoint;
  database: Database;
  audit: Pick<AuditSink, 'append'> & { flush(): Promise<void> };
  policies: PolicyProvider;
  close(): Promise<void>;
}

/** The environment less Warden's own variables. */
function withoutWardenVars(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('WARDEN_')));
}

/** The default result inspector: the checkpoint's output scan, redaction and audit. */
function scanningInspector(checkpoint: Pick<Checkpoint, 'inspect'>): ResultInspector {
  return {
    async inspect(action, result) {
      const r = await checkpoint.inspect(action, result);
      return r.value === result ? { action: 'pass' } : { action: 'replace', result: r.value as InspectedResult };
    },
  };
}

/**
 * The gateway surface over the core: the core's checkpoint, registry and audit, plus upstreams and
 * rate limits. A gateway that owns its core runs the core's timers (it writes events, so it seals
 * and runs retention like a server).
 */
export async function startGateway(opts: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const logger = opts.logger ?? pino({ level: 'warn', base: { service: 'warden-gateway' } }, pino.destination(2));
  const shared = 'shared' in opts.database;
  const core =
    'shared' in opts.database
      ? opts.database.shared
      : await createCore(
          {
            database: opts.database,
            policies: opts.policies,
            watchPolicies: opts.watchPolicies ?? true,
            ...(opts.registryFile ? { registryFile: opts.registryFile } : {}),
            ...(opts.auditKeyFile ? { auditKeyFile: opts.auditKeyFile } : {}),
            ...(opts.checkpointIntervalSec !== undefined ? { checkpointIntervalSec: opts.checkpointIntervalSec } : {}),
            ...(opts.retentionIntervalSec !== undefined ? { retentionIntervalSec: opts.retentionIntervalSec } : {}),
            ...(opts.capture ? { auditCapture: opts.capture } : {}),
            ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
            ...(opts.registryCacheMs !== undefined ? { registryCacheMs: opts.registryCacheMs } : {}),
          },
          { logger, createAuditKey: true, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.onStage ? { onStage: opts.onStage } : {}) },
        );
  let limiter: RateLimiter | undefined;
  let gateway: Gateway | undefined;
  try {
    limiter = opts.rateLimits?.length ? (opts.redisUrl ? connectRedisRateLimiter(opts.redisUrl, { timeoutMs: opts.redisTimeoutMs, logger }) : createMemoryRateLimiter()) : undefined;
    gateway = createGateway(
      { checkpoint: core.checkpoint, preview: core.preview, registry: core.registry, audit: core.results, clock: core.clock, rateLimiter: limiter, inspector: opts.inspector ?? scanningInspector(core.checkpoint), logger },
      { upstreams: opts.upstreams, scope: opts.scope, namespacing: opts.namespacing, rateLimits: opts.rateLimits, upstream: { stderr: opts.upstreamStderr ?? 'inherit', ...(opts.upstreamEnv ? { baseEnv: withoutWardenVars(opts.upstreamEnv) } : {}) } },
    );
    await gateway.start();
    if (!shared) core.startTimers();
    const gw = gateway;
    const lim = limiter;
    return {
      gateway: gw,
      core,
      registry: core.registry,
      checkpoint: core.checkpoint,
      database: core.database,
      audit: {
        append: (events) => core.audit.append(events),
        async flush() {
          await gw.flushResults();
          await core.flush();
        },
      },
      policies: core.policies,
      async close() {
        await gw.close();
        await lim?.close?.();
        if (!shared) await core.close();
      },
    };
  } catch (err) {
    await gateway?.close().catch(() => {});
    await limiter?.close?.().catch(() => {});
    if (!shared) await core.close().catch(() => {});
    throw err;
  }
}
