import pino, { type Logger } from 'pino';
import { buildApp } from './api/index.js';
import { createCheckpoint, systemClock, type Clock, type RegistryPort } from './checkpoint/index.js';
import { openPolicies, type PolicyWatcher, type WardenConfig } from './config/index.js';
import { createStaticRegistry, parseRegistryFile } from './registry/index.js';
import { createAuditRepo, migrate, openDatabase, type Database } from './store/index.js';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';

/** A running Warden server and how to stop it. */
export interface RunningServer {
  url: string;
  app: FastifyInstance;
  database: Database;
  policies: PolicyWatcher;
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
export async function startServer(config: Readonly<WardenConfig>, opts: { logger?: Logger; clock?: Clock } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'warden' } });
  const policies = await openPolicies(config.policies, { watch: config.watchPolicies, logger });
  const registry = await loadRegistry(config.registryFile);
  let database: Database | undefined;
  try {
    database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
    const migrated = await migrate(database.db);
    logger.info({ dialect: database.dialect, ...migrated }, 'database ready');
    const audit = createAuditRepo(database.db);
    const checkpoint = createCheckpoint({ policies, registry, audit, clock: opts.clock ?? systemClock });
    const db = database.db;
    const app = buildApp({
      checkpoint,
      audit,
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
      async close() {
        policies.close();
        await app.close();
        await opened.close();
      },
    };
  } catch (err) {
    policies.close();
    await database?.close().catch(() => {});
    throw err;
  }
}
