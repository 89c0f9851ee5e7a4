import pino, { type Logger } from 'pino';
import { buildApp } from './api/index.js';
import { createCheckpoint, systemClock, type Clock, type RegistryPort } from './checkpoint/index.js';
import { openPolicies, type PolicyWatcher, type WardenConfig } from './config/index.js';
import { createAuditWriter, createCheckpointer, createDispatcher, createRetentionService, type AuditWriter } from './audit/index.js';
import { loadDestinations } from './config/destinations-file.js';
import { createDetectorSet } from './detect/index.js';
import { hostname } from 'node:os';
import { loadSigningKey } from './config/signing-key.js';
import { createStaticRegistry, parseRegistryFile } from './registry/index.js';
import { createAuditRepo, createDeliveryRepo, createRetentionRepo, migrate, openDatabase, type Database } from './store/index.js';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';

/** A running Warden server and how to stop it. */
export interface RunningServer {
  url: string;
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
    const detectors = createDetectorSet();
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
