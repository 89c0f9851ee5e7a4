import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { createAuditWriter } from '../../audit/writer.js';
import { createCheckpoint, systemClock, type AuditSink, type CaptureOptions, type Checkpoint, type Clock, type DetectorPort, type Stage } from '../../checkpoint/index.js';
import { createDetectorSet, type DetectorSet } from '../../detect/index.js';
import { openPolicies, parseAuditCapture, PolicyLoadError, type PolicyWatcher } from '../../config/index.js';
import { WardenError, type Principal } from '../../domain/index.js';
import {
  createGateway,
  createHttpIdentity,
  createMemoryRateLimiter,
  createRedisRateLimiter,
  createResultBatcher,
  listenHttp,
  parseGatewayConfig,
  rateLimitsOf,
  serveStdio,
  upstreamsOf,
  type AgentCredential,
  type Gateway,
  type HttpListener,
  type Namespacing,
  type RateLimiter,
  type RateLimitRule,
  type InspectedResult,
  type ResultInspector,
  type SessionIdentity,
  type UpstreamSpec,
} from '../../gateway/index.js';
import { createRegistry, type Registry } from '../../registry/index.js';
import { createAuditRepo, createRegistryRepo, migrate, openDatabase, type Database } from '../../store/index.js';
import { CliError, EXIT, type CliIo } from '../io.js';

/** Everything `startGateway` needs; the CLI fills it from flags and the config file. */
export interface GatewayRuntimeOptions {
  policies: string[];
  scope: string;
  upstreams: UpstreamSpec[];
  namespacing?: Namespacing;
  database: { url: string } | { dataDir: string } | { memory: true };
  rateLimits?: RateLimitRule[];
  redisUrl?: string | undefined;
  /** How long registry lookups are cached (the kill switch's delay across processes). @default 500 */
  registryCacheMs?: number;
  upstreamStderr?: 'inherit' | 'ignore' | 'pipe';
  watchPolicies?: boolean;
  inspector?: ResultInspector;
  logger?: Logger;
  clock?: Clock;
  /** Called after each checkpoint stage of an audited pass with its duration (metrics, profiling). */
  onStage?: (stage: Stage, ms: number) => void;
  /** Call bodies the audit log keeps besides their digests (masked). @default none */
  capture?: CaptureOptions;
}

/** A started gateway and the parts tests and commands reach into. */
export interface GatewayRuntime {
  gateway: Gateway;
  registry: Registry;
  checkpoint: Checkpoint;
  database: Database;
  audit: Pick<AuditSink, 'append'> & { flush(): Promise<void> };
  policies: PolicyWatcher;
  close(): Promise<void>;
}

/** A detector port over a detector set that is built on first use. */
function lazyDetectors(get: () => DetectorSet): DetectorPort {
  return {
    scan: async (action) => get().scanAction(action),
    scanValue: (value, source, root) => get().scanValue(value, source, root),
  };
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
 * Builds the gateway's implementations and wires them (the gateway's composition root until
 * src/main.ts takes it over): store → audit writer → registry → checkpoint → gateway.
 */
export async function startGateway(opts: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const logger = opts.logger ?? pino({ level: 'warn', base: { service: 'warden-gateway' } }, pino.destination(2));
  const clock = opts.clock ?? systemClock;
  const policies = await openPolicies(opts.policies, { watch: opts.watchPolicies ?? true, logger });
  let database: Database | undefined;
  let limiter: RateLimiter | undefined;
  let gateway: Gateway | undefined;
  try {
    database = await openDatabase(opts.database);
    await migrate(database.db);
    const audit = createAuditWriter({ store: createAuditRepo(database.db), clock });
    // One detector set (about a second to build) serves tool-definition scans at discovery and the
    // scan sections of policies.
    let detectorSet: DetectorSet | undefined;
    const getDetectors = () => (detectorSet ??= createDetectorSet());
    const registry = createRegistry({
      repo: createRegistryRepo(database.db),
      audit,
      clock,
      scanDefinition: (tool) => getDetectors().scanToolDefinition(tool),
      ...(opts.registryCacheMs !== undefined ? { cacheMs: opts.registryCacheMs } : {}),
    });
    // Result events ride in the next decision's transaction (one commit per call, not two); the
    // decision itself is still durable before the call is forwarded.
    const batcher = createResultBatcher(audit);
    const detectors = lazyDetectors(getDetectors);
    const checkpoint = createCheckpoint({
      policies,
      registry,
      audit: batcher.decisions,
      clock,
      detectors,
      ...(opts.capture ? { capture: opts.capture } : {}),
      ...(opts.onStage ? { onStage: opts.onStage } : {}),
    });
    const preview = createCheckpoint({ policies, registry, audit: { append: async () => {} }, clock });
    limiter = opts.rateLimits?.length ? (opts.redisUrl ? createRedisRateLimiter(new Redis(opts.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 })) : createMemoryRateLimiter()) : undefined;
    gateway = createGateway(
      { checkpoint, preview, registry, audit: batcher.results, clock, rateLimiter: limiter, inspector: opts.inspector ?? scanningInspector(checkpoint), logger },
      { upstreams: opts.upstreams, scope: opts.scope, namespacing: opts.namespacing, rateLimits: opts.rateLimits, upstream: { stderr: opts.upstreamStderr ?? 'inherit' } },
    );
    await gateway.start();
    const db = database;
    const gw = gateway;
    const lim = limiter;
    return {
      gateway: gw,
      registry,
      checkpoint,
      database: db,
      audit: {
        append: (events) => audit.append(events),
        async flush() {
          await batcher.flush();
          await audit.flush();
        },
      },
      policies,
      async close() {
        await gw.close();
        await audit.flush();
        await lim?.close?.();
        policies.close();
        await db.close();
      },
    };
  } catch (err) {
    await gateway?.close().catch(() => {});
    await limiter?.close?.().catch(() => {});
    policies.close();
    await database?.close().catch(() => {});
    throw err;
  }
}

/** A registry name for a wrapped command: `server-everything` from `node …/server-everything/dist/index.js`. */
export function serverNameOf(command: string, args: readonly string[]): string {
  for (const token of [command, ...args]) {
    const m = /(?:^|\/)(?:@[^/]+\/)?((?:mcp-)?server-[A-Za-z0-9-]+)/.exec(token);
    if (m) return m[1]!;
  }
  return basename(command).replace(/\.[a-z]+$/, '').replace(/[^A-Za-z0-9_-]/g, '-') || 'upstream';
}

interface GatewayFlags {
  stdio?: boolean;
  http?: string;
  host?: string;
  config?: string;
  policies?: string[];
  scope?: string;
  agent?: string;
  principal?: string;
  roles?: string;
  server?: string;
  dataDir?: string;
  databaseUrl?: string;
  redis?: string;
  logLevel?: string;
  auditCapture?: string;
  registryCacheMs?: string;
  trustAgentHeader?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `warden gateway`: the MCP gateway, as a drop-in stdio wrapper or a Streamable HTTP server. */
export function registerGateway(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('gateway')
    .description('put the checkpoint in front of MCP servers (stdio drop-in or Streamable HTTP)')
    .argument('[command...]', 'the stdio MCP server to wrap, after `--`')
    .option('--stdio', 'serve one agent over stdin/stdout (the drop-in form)')
    .option('--http <port>', 'serve agents over Streamable HTTP on this port')
    .option('--host <host>', 'interface for --http', '127.0.0.1')
    .option('--config <file>', 'a `kind: Gateway` YAML file: servers to aggregate, agents and their tokens, rate limits')
    .option('--policies <path>', 'policy file or directory; repeatable (env WARDEN_POLICIES, comma-separated)', collect)
    .option('--scope <path>', 'the scope actions are filed under (overrides the config file)')
    .option('--agent <id>', 'agent id of the stdio session (env WARDEN_AGENT_ID)')
    .option('--principal <id>', 'principal the stdio agent acts for')
    .option('--roles <list>', "the principal's roles, comma-separated")
    .option('--server <name>', 'registry name of the wrapped server (default: derived from the command)')
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL (env WARDEN_DATABASE_URL)')
    .option('--redis <url>', 'share rate-limit counters through Redis (overrides the config file)')
    .option('--registry-cache-ms <ms>', 'how long registry lookups are cached (kill switch delay across processes)', '500')
    .option('--trust-agent-header', 'accept `X-Warden-Agent` without a token over HTTP (trusted networks only)')
    .option('--audit-capture <list>', 'keep call bodies in audit events, masked for secrets/PII: args, results, or args,results (env WARDEN_AUDIT_CAPTURE)')
    .option('--log-level <level>', 'log level on stderr', 'warn')
    .action(async (command: string[], flags: GatewayFlags) => {
      const doc = flags.config ? parseGatewayConfig(flags.config, await readText(flags.config)) : undefined;
      const upstreams: UpstreamSpec[] = doc ? upstreamsOf(doc) : [];
      if (command.length > 0) {
        upstreams.push({ name: flags.server ?? serverNameOf(command[0]!, command.slice(1)), command: command[0]!, args: command.slice(1) });
      }
      if (upstreams.length === 0) throw new CliError('no upstream server: give a command after `--` or servers in --config', EXIT.usage);
      const scope = flags.scope ?? doc?.spec.scope;
      if (!scope) throw new CliError('no scope: pass --scope PATH (e.g. `acme/platform`)', EXIT.usage);
      const policies = flags.policies ?? io.env.WARDEN_POLICIES?.split(',').filter(Boolean);
      if (!policies?.length) throw new CliError('no policies given: pass --policies DIR or set WARDEN_POLICIES', EXIT.usage);
      const stdio = flags.stdio ?? flags.http === undefined;
      const databaseUrl = flags.databaseUrl ?? io.env.WARDEN_DATABASE_URL;
      const logger = pino({ level: flags.logLevel ?? 'warn', base: { service: 'warden-gateway' } }, pino.destination(2));

      let runtime: GatewayRuntime;
      try {
        runtime = await startGateway({
          policies,
          scope,
          upstreams,
          database: databaseUrl ? { url: databaseUrl } : { dataDir: flags.dataDir ?? io.env.WARDEN_DATA_DIR ?? '.warden/data' },
          rateLimits: doc ? rateLimitsOf(doc) : [],
          redisUrl: flags.redis ?? doc?.spec.redis,
          registryCacheMs: Number(flags.registryCacheMs ?? 500),
          capture: parseAuditCapture(flags.auditCapture ?? io.env.WARDEN_AUDIT_CAPTURE),
          // In the stdio form, the server's stderr is the agent's log; keep it visible.
          upstreamStderr: 'inherit',
          logger,
        });
      } catch (err) {
        if (err instanceof PolicyLoadError) throw new CliError(err.message, EXIT.usage);
        if (err instanceof Error && !(err instanceof WardenError) && /spawn|ENOENT|Connection closed/i.test(err.message)) {
          throw new CliError(`cannot start the upstream server: ${err.message}`, EXIT.findings);
        }
        throw err;
      }

      let http: HttpListener | undefined;
      try {
        if (flags.http !== undefined) {
          const agents = resolveAgents(doc, io.env);
          http = await listenHttp(runtime.gateway, {
            port: Number(flags.http),
            host: flags.host,
            identify: createHttpIdentity({ scope, agents, trustAgentHeader: flags.trustAgentHeader }),
          });
          io.stderr(`Warden gateway is serving MCP at ${http.url} (${upstreams.map((u) => u.name).join(', ')})\n`);
        }
        if (stdio) {
          const principal: Principal | undefined = flags.principal ? { id: flags.principal, ...(flags.roles ? { roles: flags.roles.split(',').filter(Boolean) } : {}) } : undefined;
          const identity: SessionIdentity = { agentId: flags.agent ?? io.env.WARDEN_AGENT_ID ?? 'stdio-agent', scope, principal, via: 'config' };
          await Promise.race([serveStdio(runtime.gateway, identity), io.untilStopped()]);
        } else {
          await io.untilStopped();
        }
      } finally {
        await http?.close();
        await runtime.close();
      }
      done(EXIT.ok);
    });
}

function resolveAgents(doc: ReturnType<typeof parseGatewayConfig> | undefined, env: CliIo['env']): AgentCredential[] {
  return (doc?.spec.agents ?? []).flatMap((a) => {
    const token = a.token ?? (a.tokenEnv ? env[a.tokenEnv] : undefined);
    if (!token) throw new CliError(`agent \`${a.id}\` has no token: set \`token\` or the variable named by \`tokenEnv\``, EXIT.usage);
    return [{ id: a.id, token, principal: a.principal, scope: a.scope }];
  });
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new CliError(`cannot read \`${file}\``, EXIT.usage);
  }
}
