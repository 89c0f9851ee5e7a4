import pino, { type Logger } from 'pino';
import type { CaptureOptions, Checkpoint, Stage } from '../checkpoint/index.js';
import type { PolicyProvider } from '../checkpoint/index.js';
import { systemClock } from '../domain/clock.js';
import { WardenError, type AuditSink, type Clock } from '../domain/index.js';
// Deep imports, not the barrel: a stdio gateway answers `initialize` before the HTTP transport loads.
import { createGateway } from '../gateway/gateway.js';
import type { Gateway } from '../gateway/gateway-api.js';
import type { AuditMode } from '../gateway/audit-mode.js';
import type { Namespacing } from '../gateway/catalog.js';
import type { InspectedResult, RateLimiter, ResultInspector, UpstreamTracing } from '../gateway/ports.js';
import type { ReadinessCheck } from '../api/rest/health.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { upstreamTracing } from '../telemetry/upstream-tracing.js';
import { coreReadiness } from './readiness.js';
import { connectRedisRateLimiter, createMemoryRateLimiter, type RateLimitRule } from '../gateway/rate-limit.js';
import type { UpstreamSpec } from '../gateway/upstream.js';
import type { Registry } from '../registry/index.js';
import type { Database } from '../store/index.js';
import { seedAgentTokens, type AgentTokenSeeds } from './agent-token-seed.js';
import type { Core, DatabaseLocation } from './core.js';

/** Everything `startGateway` needs; the CLI fills it from flags and the config file (through src/config). */
export interface GatewayRuntimeOptions {
  policies: string[];
  scope: string;
  /**
   * The tenant the gateway serves: its registry, its audit chain, and the only tenant whose agent
   * tokens connect. It must exist (`warden tenant create`). @default 'default'
   */
  tenant?: string | undefined;
  /** A gateway file's agents: their static tokens are imported into the identity store at start (see `seedAgentTokens`). */
  agentTokens?: AgentTokenSeeds | undefined;
  upstreams: UpstreamSpec[];
  namespacing?: Namespacing;
  /** Where the store is; `shared` runs on a core another surface built (the demo runs on the server's). */
  database: DatabaseLocation | { shared: Core };
  rateLimits?: RateLimitRule[];
  /**
   * When each request's decision event must be durable: before it is forwarded, or (overlapping the
   * upstream call) before its answer reaches the agent. docs/gateway.md, "Audit modes".
   * @default DEFAULT_AUDIT_MODE
   */
  auditMode?: AuditMode | undefined;
  /** How long a request is held waiting for its approval. @default 60 s */
  approvalWaitMs?: number | undefined;
  /** Shares rate-limit counters and abuse rules' velocity counts across gateway replicas. */
  redisUrl?: string | undefined;
  /** Abuse rule files or directories (`CoreConfig.abuseRules`). @default none */
  abuseRules?: readonly string[] | undefined;
  /** Run the default abuse rule pack (shadow). @default true */
  abuseDefaultPack?: boolean | undefined;
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
  /** Process metrics (CPU, memory, event-loop lag) in `/metrics`: `warden gateway` itself, not tests. @default false */
  processMetrics?: boolean | undefined;
  /** The OTLP/HTTP traces endpoint (`CoreConfig.otlpEndpoint`). */
  otlpEndpoint?: string | undefined;
  otlpHeaders?: Readonly<Record<string, string>> | undefined;
  /** Where spans go instead of `otlpEndpoint` (`CoreOptions.spanExporter`; tests). */
  spanExporter?: SpanExporter | undefined;
  /** Call bodies the audit log keeps besides their digests (masked). @default none */
  capture?: CaptureOptions;
  /** Hosts (and subdomains) images, links and uploads may reach without an exfiltration finding. @default none */
  allowedHosts?: readonly string[];
  /** Announces new approval requests to these webhooks (`CoreConfig.approvalWebhooksFile`); secrets come from `env`. */
  approvalWebhooksFile?: string | undefined;
  /** Where approval links point (`CoreConfig.publicUrl`): the API server people sign in to. */
  publicUrl?: string | undefined;
  /** The environment webhook secrets are read from. @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  /** Signs status check requests (`CoreConfig.checkSecret`). */
  checkSecret?: string | undefined;
  /** Hosts status checks may reach although private (`CoreConfig.checkAllowHosts`). @default none */
  checkAllowHosts?: readonly string[];
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
  /** The registry of the gateway's tenant. */
  registry: Registry;
  checkpoint: Checkpoint;
  database: Database;
  audit: Pick<AuditSink, 'append'> & { flush(): Promise<void> };
  policies: PolicyProvider;
  /** `/readyz`: the database takes writes, the policy set in force, every upstream connected. */
  readiness: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

/** The environment less Warden's own variables. */
function withoutWardenVars(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('WARDEN_')));
}

/** The default result inspector: the checkpoint's output scan, redaction and audit. */
function scanningInspector(checkpoint: Pick<Checkpoint, 'inspect'>): ResultInspector {
  return {
    async inspect(action, result, caller) {
      const r = await checkpoint.inspect(action, result, caller);
      return r.value === result ? { action: 'pass' } : { action: 'replace', result: r.value as InspectedResult };
    },
  };
}

/** A gateway that serves at once while its core is built and its upstreams start. */
export interface OpeningGateway {
  /**
   * Sessions may connect now: `initialize` needs nothing but the gateway's own capabilities, so an
   * agent is answered at once; every other request waits for what it needs (the core, the upstream).
   */
  gateway: Gateway;
  /** Resolves once the core is built and the upstreams are connected and registered; on failure the gateway is closed. */
  ready: Promise<GatewayRuntime>;
}

/** The core's services the gateway calls, each waiting for the core first; the registry is the tenant's. */
function deferredDeps(core: Promise<Core>, tenant: string, inspector: ResultInspector | undefined) {
  const registry = async () => (await core).registry.forTenant(tenant);
  // A request is forwarded only after its decision, which waits for the core: by then this is set.
  let traced: UpstreamTracing | undefined;
  core.then((c) => (traced = upstreamTracing(c.telemetry.tracing))).catch(() => {});
  return {
    tracing: { begin: (req: Parameters<UpstreamTracing['begin']>[0]) => (traced ? traced.begin(req) : { traceparent: req.traceparent, end: () => {} }) },
    checkpoint: {
      check: async (...a: Parameters<Checkpoint['check']>) => (await core).checkpoint.check(...a),
      resultPayload: async (value: unknown) => (await core).checkpoint.resultPayload(value),
    },
    preview: { check: async (...a: Parameters<Checkpoint['check']>) => (await core).preview.check(...a) },
    registry: {
      findTool: async (server: string, name: string) => (await registry()).findTool(server, name),
      findAgent: async (id: string) => (await registry()).findAgent(id),
      discover: async (...a: Parameters<Registry['discover']>) => (await registry()).discover(...a),
    },
    audit: { append: async (events: Parameters<AuditSink['append']>[0]) => (await core).results.append(events) },
    approvals: {
      wait: async (...a: Parameters<Core['approvals']['wait']>) => (await core).approvals.wait(...a),
      confirm: async (...a: Parameters<Core['approvals']['confirm']>) => (await core).approvals.confirm(...a),
    },
    inspector: inspector ?? { inspect: async (action: Parameters<ResultInspector['inspect']>[0], result: InspectedResult, caller?: Parameters<ResultInspector['inspect']>[2]) => scanningInspector((await core).checkpoint).inspect(action, result, caller) },
  };
}

/**
 * The gateway surface over the core: the core's checkpoint, registry and audit, plus upstreams and
 * rate limits. A gateway that owns its core runs the core's timers (it writes events, so it seals
 * and runs retention like a server). The gateway exists at once; the core (store, migrations,
 * policies: seconds on a cold data directory) is built while the upstreams start.
 */
export function openGateway(opts: GatewayRuntimeOptions): OpeningGateway {
  const logger = opts.logger ?? pino({ level: 'warn', base: { service: 'warden-gateway' } }, pino.destination(2));
  const shared = 'shared' in opts.database;
  const database = opts.database;
  const tenant = opts.tenant ?? 'default';
  const core: Promise<Core> =
    'shared' in database
      ? Promise.resolve(database.shared)
      : // The core's modules (the store, the detectors…) load here, after the gateway can answer.
        import('./core.js').then(({ createCore }) =>
          createCore(
            {
              database,
              policies: opts.policies,
              watchPolicies: opts.watchPolicies ?? true,
              ...(opts.registryFile ? { registryFile: opts.registryFile } : {}),
              ...(opts.auditKeyFile ? { auditKeyFile: opts.auditKeyFile } : {}),
              ...(opts.checkpointIntervalSec !== undefined ? { checkpointIntervalSec: opts.checkpointIntervalSec } : {}),
              ...(opts.retentionIntervalSec !== undefined ? { retentionIntervalSec: opts.retentionIntervalSec } : {}),
              ...(opts.capture ? { auditCapture: opts.capture } : {}),
              ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
              ...(opts.checkSecret ? { checkSecret: opts.checkSecret } : {}),
              ...(opts.checkAllowHosts ? { checkAllowHosts: opts.checkAllowHosts } : {}),
              ...(opts.registryCacheMs !== undefined ? { registryCacheMs: opts.registryCacheMs } : {}),
              ...(opts.approvalWebhooksFile ? { approvalWebhooksFile: opts.approvalWebhooksFile } : {}),
              ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
              ...(opts.abuseRules ? { abuseRules: opts.abuseRules } : {}),
              ...(opts.abuseDefaultPack !== undefined ? { abuseDefaultPack: opts.abuseDefaultPack } : {}),
              ...(opts.redisUrl ? { velocityRedisUrl: opts.redisUrl } : {}),
              ...(opts.otlpEndpoint ? { otlpEndpoint: opts.otlpEndpoint } : {}),
              ...(opts.otlpHeaders ? { otlpHeaders: opts.otlpHeaders } : {}),
            },
            { logger, createAuditKey: true, processMetrics: opts.processMetrics ?? false, ...(opts.spanExporter ? { spanExporter: opts.spanExporter } : {}), ...(opts.env ? { env: opts.env } : {}), ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.onStage ? { onStage: opts.onStage } : {}) },
          ),
        );
  const limiter: RateLimiter | undefined = opts.rateLimits?.length ? (opts.redisUrl ? connectRedisRateLimiter(opts.redisUrl, { timeoutMs: opts.redisTimeoutMs, logger }) : createMemoryRateLimiter()) : undefined;
  const gateway = createGateway(
    { ...deferredDeps(core, tenant, opts.inspector), clock: 'shared' in database ? database.shared.clock : (opts.clock ?? systemClock), rateLimiter: limiter, logger },
    { upstreams: opts.upstreams, scope: opts.scope, namespacing: opts.namespacing, rateLimits: opts.rateLimits, auditMode: opts.auditMode, approvalWaitMs: opts.approvalWaitMs, upstream: { stderr: opts.upstreamStderr ?? 'inherit', ...(opts.upstreamEnv ? { baseEnv: withoutWardenVars(opts.upstreamEnv) } : {}) } },
  );
  const ready = (async (): Promise<GatewayRuntime> => {
    let built: Core | undefined;
    try {
      // The upstreams start while the core is built; registering their tools waits for the core.
      [built] = await Promise.all([core, gateway.start()]);
      if (!(await built.identity.getTenant(tenant))) {
        throw new WardenError('identity.tenant_not_found', `the gateway serves tenant \`${tenant}\`, which does not exist`, { help: 'create it first: `warden tenant create ID --name NAME`' });
      }
      if (opts.agentTokens) await seedAgentTokens(built.identity, { ...opts.agentTokens, tenant, scope: opts.scope, logger });
      if (!shared) built.startTimers();
    } catch (err) {
      await gateway.close().catch(() => {});
      await limiter?.close?.().catch(() => {});
      if (!shared) await (built ?? (await core.catch(() => undefined)))?.close().catch(() => {});
      throw err;
    }
    const c = built;
    return {
      gateway,
      core: c,
      registry: c.registry.forTenant(tenant),
      checkpoint: c.checkpoint,
      database: c.database,
      audit: {
        append: (events) => c.audit.append(events),
        async flush() {
          await gateway.flushResults();
          await c.flush();
        },
      },
      policies: c.policies,
      readiness: {
        ...coreReadiness(c, tenant),
        upstreams: async () => {
          const all = await gateway.upstreamStatus();
          const down = all.filter((u) => !u.connected);
          // Names only: the probe answers before authentication, and an upstream's error can name internal hosts (the log has it).
          for (const u of down) logger.warn({ server: u.server, err: u.error }, 'readiness: an upstream does not answer');
          return { ok: down.length === 0, detail: down.length === 0 ? `${all.length} connected` : `not connected: ${down.map((u) => u.server).join(', ')}` };
        },
      },
      async close() {
        await gateway.close();
        await limiter?.close?.();
        if (!shared) await c.close();
      },
    };
  })();
  return { gateway, ready };
}

/** The gateway surface over the core, once it is ready: {@link openGateway} awaited. */
export async function startGateway(opts: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  return openGateway(opts).ready;
}
