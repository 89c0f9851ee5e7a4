import pino, { type Logger } from 'pino';
import { buildApp } from './api/index.js';
import { createCheckpoint, type CaptureOptions, type Checkpoint, type DetectorPort, type RegistryPort, type Stage } from './checkpoint/index.js';
import { systemClock, type AuditSink, type Clock } from './domain/index.js';
import { openPolicies, type PolicyWatcher, type WardenConfig } from './config/index.js';
import { createAuditWriter, createCheckpointer, createDispatcher, createRetentionService, type AuditWriter } from './audit/index.js';
import { loadDestinations } from './config/destinations-file.js';
import { createDetectorSet, type DetectorSet } from './detect/index.js';
import { hostname } from 'node:os';
import { loadSigningKey } from './config/signing-key.js';
import { createRegistry, createStaticRegistry, parseRegistryFile, type Registry } from './registry/index.js';
import {
  createGateway,
  createMemoryRateLimiter,
  createRedisRateLimiter,
  createResultBatcher,
  createHttpIdentity,
  listenHttp,
  type Gateway,
  type InspectedResult,
  type Namespacing,
  type RateLimiter,
  type RateLimitRule,
  type ResultInspector,
  type UpstreamSpec,
} from './gateway/index.js';
import { Redis } from 'ioredis';
import { createAuditRepo, createDeliveryRepo, createRegistryRepo, createRetentionRepo, migrate, openDatabase, type Database } from './store/index.js';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';

/** A running Warden server and how to stop it. */
export interface RunningServer {
  url: string;
  /** The configuration it runs with. */
  config: Readonly<WardenConfig>;
  app: FastifyInstance;
  database: Database;
  policies: PolicyWatcher;
  audit: AuditWriter;
  close(): Promise<void>;
}

async function loadRegistry(file: string | undefined): Promise<RegistryPort> {
  if (!file) return createStaticRegistry();
  const doc = parseRegistryFile(file, await readFile(file, 'utf8'));
  return createStaticRegistry({ ...(doc.spec.tools ? { tools: doc.spec.tools } : {}), ...(doc.spec.agents ? { agents: doc.spec.agents } : {}) });
}

/**
 * The composition root: config in, a listening server out. The only place that picks
 * implementations and wires them together.
 */
export async function startServer(config: Readonly<WardenConfig>, opts: { logger?: Logger; clock?: Clock; env?: Readonly<Record<string, string | undefined>> } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'warden' } });
  const policies = await openPolicies(config.policies, { watch: config.watchPolicies, logger });
  const registry = await loadRegistry(config.registryFile);
  let database: Database | undefined;
  try {
    database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
    const migrated = await migrate(database.db);
    logger.info({ dialect: database.dialect, ...migrated }, 'database ready');
    const clock = opts.clock ?? systemClock;
    const repo = createAuditRepo(database.db);
    const writer = createAuditWriter({ store: repo, clock });
    const signing = await loadSigningKey(config.auditKeyFile, { create: true });
    if (signing.created) logger.warn({ file: config.auditKeyFile }, 'created a new audit signing key; back it up and publish its public key (`warden audit keys`)');
    const checkpointer = createCheckpointer({ chain: repo, checkpoints: repo, key: signing.key, clock });
    const sealTimer =
      config.checkpointIntervalSec > 0
        ? setInterval(() => {
            checkpointer.sealAll().then(
              (cps) => cps.forEach((cp) => logger.info({ tenant: cp.tenantId, fromSeq: cp.fromSeq, toSeq: cp.toSeq, keyId: cp.keyId }, 'audit checkpoint signed')),
              (err: unknown) => logger.error({ err }, 'audit checkpoint failed'),
            );
          }, config.checkpointIntervalSec * 1000)
        : undefined;
    sealTimer?.unref();
    // Hourly retention pass; removals keep their chain stubs and are audited.
    const retention = createRetentionService({ store: createRetentionRepo(database.db), audit: writer, clock });
    const retentionTimer = setInterval(() => {
      retention.run().then(
        (outcomes) => outcomes.filter((o) => o.removed > 0).forEach((o) => logger.info(o, 'audit retention removed events')),
        (err: unknown) => logger.error({ err }, 'audit retention failed'),
      );
    }, 3_600_000);
    retentionTimer.unref();
    const delivery = createDeliveryRepo(database.db);
    const destinations = config.destinationsFile ? await loadDestinations(config.destinationsFile, opts.env ?? process.env) : [];
    const dispatcher = createDispatcher({
      destinations,
      chain: repo,
      store: delivery,
      clock,
      owner: `${hostname()}:${process.pid}`,
      onError: (err) => logger.warn({ err }, 'audit streaming pass failed'),
    });
    if (destinations.length > 0) {
      dispatcher.start();
      logger.info({ destinations: destinations.map((d) => d.doc.metadata.name) }, 'audit streaming started');
    }
    // Built once (patterns compiled, model loaded) and shared; policies' scan sections pick what runs.
    const detectors = createDetectorSet({ allowedHosts: config.allowedHosts });
    const checkpoint = createCheckpoint({ policies, registry, audit: writer, clock, detectors, capture: config.auditCapture });
    const db = database.db;
    const app = buildApp({
      checkpoint,
      audit: repo,
      delivery,
      policyStatus: policies.status,
      logger: logger.child({ component: 'api' }),
      readiness: {
        database: async () => {
          await sql`select 1`.execute(db);
          return { ok: true, detail: database!.dialect };
        },
        // A broken edit on disk does not make the server unready: the last good set stays in force.
        policies: async () => {
          const s = policies.status();
          return { ok: true, detail: s.lastError ? `serving ${s.version}; the files on disk fail to load: ${s.lastError.messages[0]}` : `serving ${s.version}` };
        },
      },
    });
    const url = await app.listen({ port: config.port, host: config.host });
    const opened = database;
    return {
      url,
      config,
      app,
      database: opened,
      policies,
      audit: writer,
      async close() {
        clearInterval(sealTimer);
        clearInterval(retentionTimer);
        await dispatcher.stop();
        policies.close();
        await app.close();
        await writer.flush();
        // A last seal so a clean stop leaves every committed event under a signed checkpoint.
        await checkpointer.sealAll().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'));
        await opened.close();
      },
    };
  } catch (err) {
    policies.close();
    await database?.close().catch(() => {});
    throw err;
  }
}

/** Everything `startGateway` needs; the CLI fills it from flags and the config file. */
export interface GatewayRuntimeOptions {
  policies: string[];
  scope: string;
  upstreams: UpstreamSpec[];
  namespacing?: Namespacing;
  /** Where the store is; `shared` uses an open database (the caller closes it), e.g. the server's. */
  database: { url: string } | { dataDir: string } | { memory: true } | { shared: Database };
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
  /** Hosts (and subdomains) images, links and uploads may reach without an exfiltration finding. @default none */
  allowedHosts?: readonly string[];
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
 * The gateway's composition root: store → audit writer → registry → checkpoint → gateway.
 */
export async function startGateway(opts: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const logger = opts.logger ?? pino({ level: 'warn', base: { service: 'warden-gateway' } }, pino.destination(2));
  const clock = opts.clock ?? systemClock;
  const policies = await openPolicies(opts.policies, { watch: opts.watchPolicies ?? true, logger });
  let database: Database | undefined;
  let limiter: RateLimiter | undefined;
  let gateway: Gateway | undefined;
  const shared = 'shared' in opts.database;
  try {
    database = 'shared' in opts.database ? opts.database.shared : await openDatabase(opts.database);
    await migrate(database.db);
    const audit = createAuditWriter({ store: createAuditRepo(database.db), clock });
    // One detector set (about a second to build) serves tool-definition scans at discovery and the
    // scan sections of policies.
    let detectorSet: DetectorSet | undefined;
    const getDetectors = () => (detectorSet ??= createDetectorSet(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}));
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
        if (!shared) await db.close();
      },
    };
  } catch (err) {
    await gateway?.close().catch(() => {});
    await limiter?.close?.().catch(() => {});
    policies.close();
    if (!shared) await database?.close().catch(() => {});
    throw err;
  }
}

/** The demo's MCP gateway: one upstream server behind Streamable HTTP, on the server's database. */
export interface DemoGateway {
  /** The MCP endpoint agents connect to. */
  url: string;
  /** Bearer token of the demo agent. */
  token: string;
  runtime: GatewayRuntime;
  close(): Promise<void>;
}

/**
 * Puts the gateway in front of `upstream` for `npm start`, sharing the running server's database
 * (so its audit API shows the gateway's events) and policies. One agent, `demo-agent`, holds `token`.
 */
export async function startDemoGateway(server: RunningServer, opts: { policies: string[]; scope: string; upstream: UpstreamSpec; port: number; host: string; token: string; logger?: Logger }): Promise<DemoGateway> {
  const runtime = await startGateway({
    policies: opts.policies,
    scope: opts.scope,
    upstreams: [opts.upstream],
    database: { shared: server.database },
    upstreamStderr: 'ignore',
    // The server's own settings for what the demo's calls are scanned and audited with.
    capture: server.config.auditCapture,
    allowedHosts: server.config.allowedHosts,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  try {
    const http = await listenHttp(runtime.gateway, {
      port: opts.port,
      host: opts.host,
      identify: createHttpIdentity({ scope: opts.scope, agents: [{ id: 'demo-agent', token: opts.token, principal: { id: 'bob', roles: ['developer'] } }] }),
    });
    return {
      url: http.url,
      token: opts.token,
      runtime,
      async close() {
        await http.close();
        await runtime.close();
      },
    };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
