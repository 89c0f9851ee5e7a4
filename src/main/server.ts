import { randomBytes } from 'node:crypto';
import { signallingFailures } from './auth-failure-signal.js';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, createAuthFailureLimiter } from '../api/index.js';
import { WardenError } from '../domain/index.js';
import { loadOidcConfig } from '../config/index.js';
import { createOidcVerifier } from '../identity/index.js';
import type { PolicyStatus, WardenConfig } from '../config/index.js';
import type { Clock } from '../domain/index.js';
import { coreConfigOf } from './core-config.js';
import { httpOptionsOf, type HttpOptions } from './http-options.js';
import { listenErrorOf } from './listen-error.js';
import { createCore, type Core } from './core.js';
import { listenOps, scrapeAllowed } from './ops-endpoints.js';
import { coreReadiness } from './readiness.js';

/** A running Warden server and how to stop it. */
export interface RunningServer {
  url: string;
  /** Where `/metrics` is served on the metrics port, when one was asked for. */
  metricsUrl?: string;
  /** The configuration it runs with. */
  config: Readonly<WardenConfig>;
  /** The services it serves; the demo gateway runs on the same core. */
  core: Core;
  app: FastifyInstance;
  /** The bootstrap owner token, when this start created it (the first start of a fresh database). */
  bootstrap: { token: string; file: string } | undefined;
  close(): Promise<void>;
}

/**
 * Creates the installation's first owner token when the database has never had one, and writes it
 * to `file` readable by this user only. The caller prints it once; it is never shown again.
 */
async function bootstrapToken(core: Core, file: string): Promise<{ token: string; file: string } | undefined> {
  const created = await core.identity.bootstrap(async (token) => {
    try {
      await writeSecret(file, token);
    } catch (err) {
      throw new WardenError('config.invalid', `cannot write the bootstrap token to \`${file}\`: ${(err as Error).message}`, {
        help: 'point --bootstrap-token-file (WARDEN_BOOTSTRAP_TOKEN_FILE) at a writable place; the token is made again on the next start',
        cause: err,
      });
    }
  });
  return created ? { token: created.token, file } : undefined;
}

/** Writes a secret to `file`, mode 0600, replacing whatever is at that name. */
async function writeSecret(file: string, token: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // A new file (O_EXCL: never through a link someone planted), mode 0600 from birth, then renamed over
  // the name: a symlink at `file` is replaced, not followed, and a crash leaves no half-written token.
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The REST API over a core: the decision route on the core's checkpoint, the audit routes on its log,
 * readiness on its database and policies. It does not listen, so tests call `app.inject()`.
 */
export function createServerApp(core: Core, opts: { logger?: Logger; http?: Omit<HttpOptions, 'warnings'>; metricsToken?: string | undefined } = {}): FastifyInstance {
  const status = (tenantId = 'default'): PolicyStatus => core.policies.status(tenantId);
  const http = opts.http;
  const app = buildApp({
    ...(http ? { trustProxy: http.trustProxy, hardening: { allowedHosts: http.allowedHosts, corsOrigins: http.corsOrigins } } : {}),
    ...(http?.https ? { https: http.https } : {}),
    checkpoint: core.checkpoint,
    audit: core.auditLog,
    events: core.audit,
    identity: core.identity,
    clock: core.clock,
    authFailures: signallingFailures(createAuthFailureLimiter({ clock: core.clock }), { observe: (events) => core.abuse.engine.observe(events) }, core.clock, 'api'),
    delivery: core.delivery,
    destinations: core.destinations,
    chain: core.auditLog,
    registry: core.registry,
    retention: { service: core.retention, store: core.retentionStore },
    policyStatus: status,
    policies: core.managedPolicies,
    approvals: core.approvals,
    approvalLinks: core.approvalLinks,
    abuse: { labels: core.labels, cases: core.cases, mitigations: core.mitigations, log: core.auditLog },
    ...(opts.logger ? { logger: opts.logger } : {}),
    readiness: coreReadiness(core),
  });
  // Not part of the JSON API: a scraper's static token, not a tenant's credential (docs/observability.md).
  const token = opts.metricsToken;
  if (token !== undefined) {
    app.get('/metrics', async (req, reply) => {
      if (!scrapeAllowed(req.headers.authorization, token)) {
        return reply.status(401).header('www-authenticate', 'Bearer').send({ error: { code: 'auth.required', message: '/metrics needs the scrape token: send `Authorization: Bearer <WARDEN_METRICS_TOKEN>`' } });
      }
      return reply.type(core.telemetry.metrics.contentType).send(await core.telemetry.metrics.scrape());
    });
  }
  return app;
}

/** Binds the port and lets it go: fails with `server.port_unavailable` before anything is created on disk. */
async function probePort(port: number, host: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenErrorOf(err, { port, host })));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** `warden serve`: the decision and audit API over the core, with the core's timers running. */
export async function startServer(config: Readonly<WardenConfig>, opts: { logger?: Logger; clock?: Clock; env?: Readonly<Record<string, string | undefined>> } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'warden' } });
  // A certificate that cannot be used fails the start before anything is created on disk.
  const http = httpOptionsOf(config);
  for (const warning of http.warnings) logger.warn(warning);
  // INVARIANT: a taken port fails the start before the data directory and the signing key exist.
  // Port 0 asks for any free port, so there is nothing to check.
  if (config.port !== 0) await probePort(config.port, config.host);
  const oidc = config.oidcFile ? createOidcVerifier(await loadOidcConfig(config.oidcFile), opts.clock ? { clock: opts.clock } : {}) : undefined;
  // Port 0 (tests) is chosen at listen: the links' default base follows the port actually bound.
  let boundPort = config.port;
  const publicUrl = () => config.publicUrl ?? `http://127.0.0.1:${boundPort}`;
  const core = await createCore(coreConfigOf(config), { logger, createAuditKey: true, processMetrics: true, publicUrl, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.env ? { env: opts.env } : {}), ...(oidc ? { oidc } : {}) });
  try {
    // Built before the first request (patterns compiled, model loaded), not during it.
    core.detectors();
    const bootstrap = await bootstrapToken(core, config.bootstrapTokenFile);
    const app = createServerApp(core, { logger: logger.child({ component: 'api' }), http, metricsToken: config.telemetry.metricsToken });
    // Another process may take the port between the probe and here: the same one-line error.
    const url = await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
      throw listenErrorOf(err, { port: config.port, host: config.host });
    });
    const address = app.server.address();
    if (address !== null && typeof address === 'object') boundPort = address.port;
    const { metricsPort, metricsHost, metricsToken } = config.telemetry;
    const ops = metricsPort !== undefined ? await listenOps({ metrics: core.telemetry.metrics, token: metricsToken, readiness: coreReadiness(core) }, { port: metricsPort, host: metricsHost }) : undefined;
    core.startTimers();
    return {
      url,
      ...(ops ? { metricsUrl: `${ops.url}/metrics` } : {}),
      config,
      core,
      app,
      bootstrap,
      async close() {
        await ops?.close();
        await app.close();
        await core.close();
      },
    };
  } catch (err) {
    await core.close().catch(() => {});
    throw err;
  }
}
