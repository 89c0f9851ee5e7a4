import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { sql } from 'kysely';
import { createAuditWriter, createCheckpointer, createDispatcher, createRetentionService, type AuditWriter, type Checkpointer, type DeliveryStore, type Dispatcher, type RetentionService, type RetentionStore } from '../audit/index.js';
import { createCheckClient } from '../approvals/checks.js';
import { createCheckpoint, type CaptureOptions, type Checkpoint, type CheckPort, type PolicyProvider, type Stage } from '../checkpoint/index.js';
import { loadApprovalWebhooks, loadDestinations, loadSigningKey, openPolicies, type PolicyStatus, type PolicyWatcher } from '../config/index.js';
import type { DetectorSet } from '../detect/index.js';
import { lazyDetectors } from './detectors.js';
import { systemClock, WardenError, type AuditEvent, type AuditSink, type Clock, type EntityRef } from '../domain/index.js';
import { formatDiagnostic, loadPolicySources, type PolicySet, type PolicySource } from '../policy/index.js';
import { createRegistry, parseRegistryFile, seedRegistry, type Registry, type SeedReport } from '../registry/index.js';
// The batcher alone, not the gateway barrel (its HTTP transport): one-shot commands build a core too.
import { createResultBatcher } from '../gateway/result-batcher.js';
import { createApprovalLinkRepo, createApprovalRepo, createCaseRepo, createLabelRepo, createMitigationRepo, createAuditRepo, createDeliveryRepo, createIdentityRepo, createPgReleaseFeed, createPolicyRepo, createRegistryRepo, createRetentionRepo, migrate, openDatabase, type AuditRepo, type Database } from '../store/index.js';
import { createPolicyService, createTenantPolicySets, type PolicyService, type TenantPolicySets } from '../policies/index.js';
import { createIdentityService, type BearerVerifier, type Credential, type IdentityService } from '../identity/index.js';
import { createApprovalLinks, createApprovalNotifier, createApprovalService, type ApprovalLinks, type ApprovalNotifier, type ApprovalService, type OnRequest } from '../approvals/index.js';
import {
  DEFAULT_PACK,
  connectRedisSessionHistory,
  connectRedisVelocity,
  createAbuseEngine,
  createCaseService,
  createKillFeed,
  createLabelService,
  createMemorySessionHistory,
  createMemoryVelocity,
  createVerdicts,
  loadAbuseSources,
  replayAbuse,
  type AbuseEngine,
  type AbuseReplayAnswer,
  type AbuseReplayRequest,
  type AbuseRuleSet,
  type CaseService,
  type KillFeed,
  type LabelService,
  type LabelStore,
  type MitigationStore,
  type QueueRoute,
  type Verdicts,
  type VelocityStore,
} from '../abuse/index.js';
import { readPolicyFiles } from '../config/policy-files.js';
import { checkpointObserver, createMetrics, createTracing, type Metrics, type Tracing } from '../telemetry/index.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Where the store is: PostgreSQL, the embedded database in a directory, or one in memory (tests). */
export type DatabaseLocation = { url: string } | { dataDir: string } | { memory: true };

/** What the core is built from; src/config resolves every field (flags over environment over defaults). */
export interface CoreConfig {
  database: DatabaseLocation;
  /** Policy files or directories; none gives an empty set (the scope default, deny, decides everything). */
  policies: readonly string[];
  /** Reload policies when their files change. @default false */
  watchPolicies?: boolean;
  /** Policies a command brings itself, served before the files (read-only; `warden mcp`'s analyst policy). @default none */
  builtinPolicies?: readonly PolicySource[];
  /** A `kind: Registry` file imported into the database registry at start (idempotent; the database wins). */
  registryFile?: string | undefined;
  /**
   * The Ed25519 key that signs audit checkpoints. Without it the process does not seal (another
   * process with the key will). @see CoreOptions.createAuditKey
   */
  auditKeyFile?: string | undefined;
  /** Seconds between signed checkpoints while timers run; 0 seals only at close. @default 60 */
  checkpointIntervalSec?: number;
  /** Seconds between retention passes while timers run. @default 3600 */
  retentionIntervalSec?: number;
  /** A YAML file of `kind: AuditDestination` documents the audit log streams to. */
  destinationsFile?: string | undefined;
  /** A YAML file of `kind: ApprovalWebhook` documents new approval requests are announced to. */
  approvalWebhooksFile?: string | undefined;
  /** Redis that keeps agent sessions' history (`session.history`), so replicas share sessions. @default this process's memory */
  sessionRedisUrl?: string | undefined;
  /** Files or directories of abuse rules and queues (`kind: AbuseRule`, `kind: AbuseQueue`). @default none */
  abuseRules?: readonly string[];
  /** Run the default abuse rule pack (shadow mode). @default true */
  abuseDefaultPack?: boolean;
  /** Redis that holds abuse rules' velocity counts, shared by replicas. @default this process's memory */
  velocityRedisUrl?: string | undefined;
  /** The URL people reach the API by: the base of the links in approval notifications. @default http://127.0.0.1:8080 */
  publicUrl?: string | undefined;
  /** Call bodies kept in audit events (masked). @default none */
  auditCapture?: CaptureOptions;
  /** Hosts images, links and uploads may reach without an exfiltration finding. @default none */
  allowedHosts?: readonly string[];
  /** How long registry lookups are cached: the kill switch's delay across processes. @default 500 */
  registryCacheMs?: number;
  /**
   * The HMAC-SHA256 key status check requests are signed with (`X-Warden-Signature`). Without it
   * policies with checks still load, their requests go out unsigned and a warning is logged once.
   */
  checkSecret?: string | undefined;
  /**
   * Hosts status checks may reach although they are loopback, private or link-local addresses (or
   * `localhost`): exact names or IP literals. Lint refuses a check URL on any other such literal host
   * at load, and the check client any name resolving to such an address at request time. @default none
   */
  checkAllowHosts?: readonly string[];
  /** How abuse cases are routed into review queues (first match wins). @default none: every case goes to `default`, due in 24 h */
  abuseQueues?: readonly QueueRoute[];
  /**
   * The OTLP/HTTP traces endpoint spans are exported to (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`). Without it tracing is a no-op unless the host
   * process registered a provider. docs/observability.md.
   */
  otlpEndpoint?: string | undefined;
  /** Headers of every export (`OTEL_EXPORTER_OTLP_HEADERS`). */
  otlpHeaders?: Readonly<Record<string, string>> | undefined;
}

/** How the core runs, as opposed to what it is made of. */
export interface CoreOptions {
  logger?: Logger;
  clock?: Clock;
  /** The environment destinations read their secrets from. @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  /** Create the signing key when it is missing (serve and gateway); one-shot commands only use an existing one. @default false */
  createAuditKey?: boolean;
  /** Called after each checkpoint stage with its duration. */
  onStage?: (stage: Stage, ms: number) => void;
  /** Where spans go instead of `otlpEndpoint` (tests: the SDK's in-memory exporter). */
  spanExporter?: SpanExporter;
  /** Process metrics (CPU, memory, event-loop lag, GC) in `/metrics`: long-running processes only. @default false */
  processMetrics?: boolean;
  /** An already open database to build on (tests); the core does not close it. */
  database?: Database;
  /** Verifies OIDC bearer tokens for people; without it only Warden tokens authenticate. */
  oidc?: BearerVerifier;
  /** The links' base when it is known only once the server listens (port 0); wins over `CoreConfig.publicUrl`. */
  publicUrl?: () => string;
  /** Waits between tries of an approval notification. @default [500, 2000, 8000] */
  notificationRetryDelaysMs?: readonly number[];
}

/**
 * Every service of a Warden process, built once. `warden serve`, `warden gateway`, the demo and every
 * CLI command are adapters over one of these; none of them builds a service of its own.
 */
export interface Core {
  readonly config: Readonly<CoreConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly database: Database;
  /** The audit log: reads, chain and checkpoints. */
  readonly auditLog: AuditRepo;
  /** The one writer of this process: every event goes through it, in chain order. */
  readonly audit: AuditWriter;
  /**
   * Where result events (`tool.call.completed` …) go: held briefly so they ride in the next
   * decision's commit (one transaction per governed call instead of two).
   */
  readonly results: Pick<AuditSink, 'append'>;
  /** Streaming destinations' cursors and dead letters. */
  readonly delivery: DeliveryStore;
  /** The names of the configured streaming destinations. */
  readonly destinations: readonly string[];
  /** The registry of tenant `default`; `registry.forTenant(id)` serves the others. */
  readonly registry: Registry;
  /** Tenants, scope trees, API tokens and authentication. */
  readonly identity: IdentityService;
  /** How many API tokens were ever created (revoked ones included): 0 on a fresh installation. */
  tokenCount(): Promise<number>;
  /** The policy set of each tenant: the files plus its active managed versions, swapped atomically on any replica's change. */
  readonly policies: PolicyProvider & { forTenant(tenantId: string): PolicySet; status(tenantId?: string): PolicyStatus; close(): Promise<void> };
  /** Managed policies: versions, review, activation, rollback (every surface's one service). */
  readonly managedPolicies: PolicyService;
  /** Approval requests: opened by the checkpoint, answered by people, waited on by the gateway and the SDK. */
  readonly approvals: ApprovalService;
  /** Signed one-time approve/deny links: made for notifications, checked by the API. */
  readonly approvalLinks: ApprovalLinks;
  /** Announces new approval requests to the configured webhooks (signed); never waited on by a decision. */
  readonly approvalNotifier: ApprovalNotifier;
  /** Labels on entities (agents, principals, sessions…): put by abuse rules and analysts, read by policies. */
  readonly labels: LabelService;
  /** The abuse review queue: cases opened by rules, claimed and decided by analysts. */
  readonly cases: CaseService;
  /** Mitigations in force (deny, throttle, kill); applied through the case service's mitigator. */
  readonly mitigations: MitigationStore;
  /**
   * The abuse rule engine: the rules in force, the kill feed gateways listen to, the verdicts (analysts'
   * mitigations go through them); `replay` runs draft rules over the audit log (src/abuse/replay-service.ts).
   */
  readonly abuse: {
    readonly engine: AbuseEngine;
    readonly rules: AbuseRuleSet;
    readonly kills: KillFeed;
    readonly verdicts: Verdicts;
    readonly velocity: VelocityStore;
    replay(c: Credential, req: AbuseReplayRequest, onProgress?: (read: number, total: number) => void): Promise<AbuseReplayAnswer>;
  };
  /** Metrics (one registry per core) and the tracer; every surface reports into these. */
  readonly telemetry: { readonly metrics: Metrics; readonly tracing: Tracing };
  /** The audited checkpoint every enforcement point calls. */
  readonly checkpoint: Checkpoint;
  /** The same checkpoint over a sink that drops events: what a listing would show, without an event per item. */
  readonly preview: Pick<Checkpoint, 'check'>;
  /** Signs checkpoints over the chain; undefined when no signing key is available to this process. */
  readonly checkpointer: Checkpointer | undefined;
  readonly retention: RetentionService;
  /** Retention periods and legal holds. */
  readonly retentionStore: RetentionStore;
  readonly dispatcher: Dispatcher;
  /** The detector set, built on first use (about a second) and shared by every stage that scans. */
  detectors(): DetectorSet;
  /** What the registry file import did at start, when one was given. */
  readonly seeded: SeedReport | undefined;
  /** Resolves once every event handed to the core so far (held result events included) is durable. */
  flush(): Promise<void>;
  /** Checks that the database answers and takes writes (readiness): a read-only standby fails it. */
  ping(): Promise<void>;
  /**
   * Starts the timers of a process that writes events: sealing, retention and streaming. Call it in
   * every long-running process (serve, gateway); one-shot commands seal once at close instead.
   */
  startTimers(): void;
  /** Stops timers, flushes the writer, seals what was written (when it can) and closes the database. */
  close(): Promise<void>;
}

/** No policy files: an empty set (managed policies may still be added per tenant). */
function emptyPolicies(clock: Clock): Pick<PolicyWatcher, 'current' | 'sources' | 'onChange' | 'status' | 'close'> {
  const set = loadPolicySources([]).set as PolicySet;
  const loadedAt = clock.now().toISOString();
  return { current: () => set, sources: () => [], onChange: () => {}, status: () => ({ version: set.version, loadedAt, policies: set.policies, lastError: undefined }), close: () => {} };
}

/**
 * The preview checkpoint's status checks: a listing shows what a call may do, and its preview has no
 * arguments to show a check, so no check runs for it and none hides an item (the call runs them).
 */
const PREVIEW_CHECKS: CheckPort = {
  run: async (requirements) => requirements.map((r) => ({ policy: r.policy, rule: r.rule, name: r.name, verdict: 'allow', error: 'status checks do not run for a listing preview' })),
};

/** The composition root: builds store, audit, registry, detectors, policies and the checkpoint once. */
export async function createCore(config: Readonly<CoreConfig>, opts: CoreOptions = {}): Promise<Core> {
  const logger = opts.logger ?? pino({ level: 'warn', base: { service: 'warden' } }, pino.destination(2));
  const clock = opts.clock ?? systemClock;
  const load = { checkHosts: config.checkAllowHosts ?? [] };
  const builtin = config.builtinPolicies ?? [];
  const files = config.policies.length > 0 || builtin.length > 0 ? await openPolicies(config.policies, { watch: config.watchPolicies ?? false, logger, clock, load, builtin }) : emptyPolicies(clock);
  let tenantSets: TenantPolicySets | undefined;
  const ownsDatabase = opts.database === undefined;
  let database: Database | undefined = opts.database;
  try {
    database ??= await openDatabase(config.database);
    const migrated = await migrate(database.db);
    logger.debug({ dialect: database.dialect, ...migrated }, 'database ready');
    const auditLog = createAuditRepo(database);
    // Sources a scrape reads are bound once the services exist.
    const scraped: { queued?: () => number; pending?: () => Promise<number> } = {};
    const metrics = createMetrics({ auditQueued: () => scraped.queued?.() ?? 0, approvalsPending: () => scraped.pending?.() ?? Promise.resolve(0) }, { processMetrics: opts.processMetrics ?? false });
    const tracing = await createTracing({ otlpEndpoint: config.otlpEndpoint, otlpHeaders: config.otlpHeaders, exporter: opts.spanExporter });
    const writer = createAuditWriter({ store: auditLog, clock }, { onCommit: (n, ms) => metrics.committed(n, ms), onBackpressure: () => metrics.backpressure() });
    scraped.queued = () => writer.stats().queued;
    // Every committed event goes to the asynchronous abuse rules (bound below, once the engine exists).
    let committed: (events: readonly AuditEvent[]) => void = () => {};
    const audit: AuditWriter = {
      async append(events) {
        await writer.append(events);
        committed(events);
      },
      flush: () => writer.flush(),
      stats: () => writer.stats(),
    };

    const policyRepo = createPolicyRepo(database.db);
    tenantSets = await createTenantPolicySets({
      files,
      repo: policyRepo,
      now: () => clock.now(),
      feed: database.pool ? createPgReleaseFeed(database.pool, logger) : undefined,
      logger,
      load,
    });
    const sets = tenantSets;
    const policies: Core['policies'] = {
      current: sets.current,
      forTenant: sets.forTenant,
      status: (tenantId = 'default') => sets.status(tenantId),
      async close() {
        files.close();
        await sets.close();
      },
    };
    const managedPolicies = createPolicyService({ repo: policyRepo, sets, files, audit, clock, events: auditLog, load });
    const batcher = createResultBatcher(audit);

    const lazy = lazyDetectors({ allowedHosts: [...(config.allowedHosts ?? [])] });
    const detectors = lazy.get;
    const detectorPort = lazy.port;

    const registryRepo = createRegistryRepo(database.db);
    const registry = createRegistry({
      repo: registryRepo,
      audit,
      clock,
      scanDefinition: (tool) => detectors().scanToolDefinition(tool),
      ...(config.registryCacheMs !== undefined ? { cacheMs: config.registryCacheMs } : {}),
    });
    let seeded: SeedReport | undefined;
    if (config.registryFile) {
      const file = config.registryFile;
      seeded = await seedRegistry({ repo: registryRepo, audit, clock }, parseRegistryFile(file, await readFile(file, 'utf8')));
      for (const c of seeded.conflicts) logger.warn({ file, entry: c.entry, field: c.field, file_value: c.fileValue, database_value: c.databaseValue }, 'the registry file differs from the database; the database wins (change it with `warden registry`)');
      if (seeded.added.length > 0) logger.info({ file, added: seeded.added }, 'registry entries imported');
    }

    const identityRepo = createIdentityRepo(database.db);
    const identity = createIdentityService({ store: identityRepo, audit, clock, ...(opts.oidc ? { oidc: opts.oidc } : {}) });

    // The notifier needs the links, the links the service, the service the notifier's hook: the hook is bound last.
    let announce: OnRequest = () => {};
    const approvals = createApprovalService({ repo: createApprovalRepo(database.db), audit, clock, logger, onRequest: (r) => announce(r) });
    scraped.pending = () => approvals.pendingCount();
    const publicUrl = opts.publicUrl ?? (() => config.publicUrl ?? 'http://127.0.0.1:8080');
    const approvalLinks = createApprovalLinks({ store: createApprovalLinkRepo(database.db), service: approvals, clock, publicUrl });
    const approvalNotifier = createApprovalNotifier({
      webhooks: config.approvalWebhooksFile ? await loadApprovalWebhooks(config.approvalWebhooksFile, opts.env ?? {}) : [],
      links: approvalLinks,
      publicUrl,
      logger,
      ...(opts.notificationRetryDelaysMs ? { retryDelaysMs: opts.notificationRetryDelaysMs } : {}),
    });
    announce = approvalNotifier.notify;
    const checks = createCheckClient({
      secret: config.checkSecret,
      allowHosts: config.checkAllowHosts ?? [],
      clock,
      onUnsigned: () => logger.warn('a status check request went out unsigned: set WARDEN_CHECK_SECRET so receivers can verify it comes from Warden (docs/approvals.md)'),
    });
    // The abuse platform: rules (the default pack and the configured files), their velocity store, the
    // stores of labels, mitigations and cases, the verdicts, and the engine the checkpoint screens with.
    const abuseFiles = config.abuseRules?.length ? (await readPolicyFiles(config.abuseRules)).sources : [];
    const loadedAbuse = loadAbuseSources([...(config.abuseDefaultPack === false ? [] : DEFAULT_PACK), ...abuseFiles]);
    if (!loadedAbuse.set) {
      const errors = loadedAbuse.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      throw new WardenError('abuse.rule_invalid', `the abuse rules do not load:\n${errors.join('\n')}`, { help: 'fix the documents named (docs/abuse.md has the rule language)' });
    }
    const abuseRules = loadedAbuse.set;
    const velocity = config.velocityRedisUrl ? connectRedisVelocity(config.velocityRedisUrl, { logger }) : createMemoryVelocity();
    // A change made in this process reaches the next decision at once; another process's within the engine's cache time.
    // The engine, the verdicts and the case service need each other: the two bound late are held here.
    const late: { engine?: AbuseEngine; cases?: CaseService } = {};
    const forget = (tenantId: string, entities: readonly EntityRef[]) => late.engine?.forget(tenantId, entities);
    const labelRepo = createLabelRepo(database.db);
    const labelStore: LabelStore = {
      ...labelRepo,
      add: async (l) => (await labelRepo.add(l), forget(l.tenantId, [l.entity])),
      remove: async (t, e, name, at) => ((await labelRepo.remove(t, e, name, at)) ? (forget(t, [e]), true) : false),
    };
    const mitigationRepo = createMitigationRepo(database.db);
    const mitigations: MitigationStore = {
      ...mitigationRepo,
      lift: async (t, id, by, at) => {
        const m = await mitigationRepo.lift(t, id, by, at);
        if (m) forget(t, [m.entity]);
        return m;
      },
    };
    const labels = createLabelService({ store: labelStore, audit, clock });
    const kills = createKillFeed(mitigations);
    const verdicts = createVerdicts({
      labels: labelStore,
      mitigations,
      cases: () => late.cases!,
      agents: { setStatus: (tenantId, agentId, status, by) => registry.forTenant(tenantId).setAgentStatus(agentId, status, by) },
      audit,
      clock,
      onKill: (m) => kills.announce(m),
      forget,
    });
    const cases = createCaseService({ store: createCaseRepo(database.db), mitigator: () => verdicts, audit, clock, queues: [...abuseRules.queues, ...(config.abuseQueues ?? [])] });
    const abuse = createAbuseEngine({ rules: () => abuseRules, velocity, labels: labelStore, mitigations, verdicts, clock, logger });
    late.engine = abuse;
    late.cases = cases;
    committed = (events) => {
      metrics.observeEvents(events);
      abuse.observe(events);
    };
    const redisSessions = config.sessionRedisUrl ? connectRedisSessionHistory(config.sessionRedisUrl, { logger }) : undefined;
    const sessions = redisSessions ?? createMemorySessionHistory();
    const checkpoint = createCheckpoint({
      policies,
      registry,
      approvals,
      sessions,
      abuse,
      audit: batcher.decisions,
      clock,
      detectors: detectorPort,
      checks,
      ...(config.auditCapture ? { capture: config.auditCapture } : {}),
      observer: checkpointObserver({ metrics, tracing, onStage: opts.onStage }),
    });
    const preview = createCheckpoint({ policies, registry, audit: { append: async () => {} }, clock, checks: PREVIEW_CHECKS });

    let checkpointer: Checkpointer | undefined;
    if (config.auditKeyFile) {
      const keyFile = config.auditKeyFile;
      const signing = await loadSigningKey(keyFile, { create: opts.createAuditKey ?? false }).catch((err: unknown) => {
        // A one-shot command without the key leaves sealing to the process that has it.
        if (opts.createAuditKey) throw err;
        logger.debug({ file: keyFile }, 'no audit signing key; this process does not seal');
        return undefined;
      });
      if (signing?.created) logger.warn({ file: keyFile }, 'created a new audit signing key; back it up and publish its public key (`warden audit keys`)');
      if (signing) checkpointer = createCheckpointer({ chain: auditLog, checkpoints: auditLog, key: signing.key, clock });
    }
    const retentionStore = createRetentionRepo(database.db);
    const retention = createRetentionService({ store: retentionStore, audit, clock });
    const destinations = config.destinationsFile ? await loadDestinations(config.destinationsFile, opts.env ?? {}) : [];
    const delivery = createDeliveryRepo(database.db);
    const dispatcher = createDispatcher({
      destinations,
      chain: auditLog,
      store: delivery,
      clock,
      owner: `${hostname()}:${process.pid}`,
      onError: (err) => logger.warn({ err }, 'audit streaming pass failed'),
      onLag: (d, t, events, seconds) => metrics.streamLag(d, t, events, seconds),
    });

    const timers: NodeJS.Timeout[] = [];
    // Passes a timer started and not yet finished: close waits for them, so a last seal never races one.
    const running = new Set<Promise<void>>();
    const seal = async () => {
      const cps = (await checkpointer?.sealAll()) ?? [];
      for (const cp of cps) logger.info({ tenant: cp.tenantId, fromSeq: cp.fromSeq, toSeq: cp.toSeq, keyId: cp.keyId }, 'audit checkpoint signed');
    };
    const runRetention = async () => {
      const outcomes = await retention.run();
      for (const o of outcomes) if (o.removed > 0) logger.info(o, 'audit retention removed events');
    };
    let closed = false;
    const db = database;
    return {
      config,
      clock,
      logger,
      database: db,
      auditLog,
      audit,
      results: batcher.results,
      delivery,
      destinations: destinations.map((d) => d.doc.metadata.name),
      registry,
      identity,
      tokenCount: () => identityRepo.countTokens(),
      policies,
      managedPolicies,
      approvals,
      approvalLinks,
      approvalNotifier,
      labels,
      cases,
      mitigations,
      telemetry: { metrics, tracing },
      abuse: { engine: abuse, rules: abuseRules, kills, verdicts, velocity, replay: (c, req, onProgress) => replayAbuse({ audit: auditLog }, c, req, onProgress) },
      checkpoint,
      preview,
      checkpointer,
      retention,
      retentionStore,
      dispatcher,
      detectors,
      seeded,
      async flush() {
        await batcher.flush();
        await audit.flush();
      },
      async ping() {
        // Writable, not only up: a replica that fails over to a read-only standby cannot commit a decision.
        const { rows } = await sql<{ ro: string }>`select current_setting('transaction_read_only') as ro`.execute(db.db);
        if (rows[0]?.ro === 'on') throw new WardenError('store.unavailable', 'the database answers but is read-only (a standby?): no decision could be recorded');
      },
      startTimers() {
        if (timers.length > 0) return;
        const every = (ms: number, what: string, fn: () => Promise<void>) => {
          const t = setInterval(() => {
            const pass = fn()
              .catch((err: unknown) => logger.error({ err }, `${what} failed`))
              .finally(() => running.delete(pass));
            running.add(pass);
          }, ms);
          t.unref();
          timers.push(t);
        };
        const sealSec = config.checkpointIntervalSec ?? 60;
        if (checkpointer && sealSec > 0) every(sealSec * 1000, 'audit checkpoint', seal);
        // A held call notices its own request's expiry; this records the ones nobody waits on.
        every(5000, 'approval expiry', async () => {
          const n = await approvals.expireDue();
          if (n > 0) logger.info({ expired: n }, 'approval requests expired');
        });
        // Removals keep their chain stubs and are audited.
        every((config.retentionIntervalSec ?? 3600) * 1000, 'audit retention', runRetention);
        if (destinations.length > 0) {
          dispatcher.start();
          logger.info({ destinations: destinations.map((d) => d.doc.metadata.name) }, 'audit streaming started');
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        for (const t of timers) clearInterval(t);
        await Promise.all([...running]);
        await dispatcher.stop();
        await policies.close();
        await redisSessions?.close();
        await batcher.flush();
        await audit.flush();
        // The rules judge what was just committed, and their verdicts are committed in turn.
        await abuse.idle();
        await audit.flush();
        await velocity.close();
        await tracing.shutdown().catch((err: unknown) => logger.warn({ err }, 'the last spans could not be exported'));
        // A last seal so a clean stop leaves every committed event under a signed checkpoint; a command
        // that only read writes nothing, not even a checkpoint.
        if (timers.length > 0 || audit.stats().committed > 0) await seal().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'));
        if (ownsDatabase) await db.close();
      },
    };
  } catch (err) {
    files.close();
    await tenantSets?.close().catch(() => {});
    if (ownsDatabase) await database?.close().catch(() => {});
    throw err;
  }
}
