import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ChainReader, DeliveryStore, RetentionService, RetentionStore } from '../audit/index.js';
import type { AuditReader } from '../audit/index.js';
import type { Checkpoint } from '../checkpoint/index.js';
import type { PolicyStatus } from '../config/index.js';
import type { Registry } from '../registry/index.js';
import { ROUTE_ACCESS } from '../identity/index.js';
import { echoPath, handleError } from './errors.js';
import { graphqlRoutes } from './graphql/route.js';
import { LOOPBACK_HOSTS, hardenHttp, type HardeningOptions } from './hardening.js';
import { inputGuard } from './input-guard.js';
import { jsonBodyParser } from './json-body.js';
import { collectRoutes } from './openapi.js';
import { requestLogger, requestLogging } from './request-log.js';
import { apiReferenceRoutes } from './rest/api-reference.js';
import { auditRoutes } from './rest/audit.js';
import { deliveryRoutes } from './rest/delivery.js';
import { decideRoutes } from './rest/decide.js';
import { decideOutcomeRoutes } from './rest/decide-outcome.js';
import { healthRoutes, type ReadinessCheck } from './rest/health.js';
import { policyRoutes } from './rest/policies.js';
import { approvalRoutes } from './rest/approvals.js';
import { abuseRoutes } from './rest/abuse.js';
import { abuseReplayRoutes } from './rest/abuse-replay.js';
import type { AbuseReplayLog, CaseService, LabelService, MitigationStore } from '../abuse/index.js';
import { approvalLinkRoutes } from './rest/approval-links.js';
import type { ApprovalLinks, ApprovalService } from '../approvals/index.js';
import { identityRoutes } from './rest/identity.js';
import { registryRoutes } from './rest/registry.js';
import { retentionRoutes } from './rest/retention.js';
import { authenticateRequests } from './auth.js';
import type { AuthFailureLimiter } from '../identity/index.js';
import type { AuditSink, Clock } from '../domain/index.js';
import type { IdentityService } from '../identity/index.js';
import type { PolicyService } from '../policies/index.js';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** The services the API serves, each narrowed to what the routes use. */
export interface AppDeps {
  /** `check` decides; `inspect` and `resultPayload` take the outcomes the SDK reports. */
  checkpoint: Pick<Checkpoint, 'check' | 'inspect' | 'resultPayload'>;
  audit: AuditReader;
  /** Where the API's own events go (refused assertions and routes, control-plane changes). */
  events: Pick<AuditSink, 'append'>;
  identity: IdentityService;
  clock: Clock;
  /** Counts failed authentications per address; none: no limit. */
  authFailures?: AuthFailureLimiter;
  /** Streaming destinations' cursors; the delivery routes are left out without it. */
  delivery?: Pick<DeliveryStore, 'status' | 'replay' | 'deadLetters'>;
  /** The names of the configured streaming destinations; replay and dead letters answer 404 for any other. @default [] */
  destinations?: readonly string[];
  /** The chain heads, so the destinations route can give each cursor's lag; without it the lag is left out. */
  chain?: Pick<ChainReader, 'head'>;
  /** The registry (of tenant `default`; the routes serve each caller's tenant through `forTenant`); its routes are left out without it. */
  registry?: Pick<Registry, 'forTenant'>;
  /** Retention periods and legal holds; their routes are left out without it. */
  retention?: { service: Pick<RetentionService, 'setRetention' | 'addHold' | 'releaseHold'>; store: Pick<RetentionStore, 'retention' | 'holds'> };
  /** The policy set in force for a tenant (`default` when the API knows no tenants). */
  policyStatus: (tenantId: string) => PolicyStatus;
  /** Managed policies; their routes (beyond the status) are left out without it. */
  policies?: PolicyService;
  /** Approval requests; without it the approvals routes are absent. */
  approvals?: ApprovalService;
  /** Signed approve/deny links; without it their route is absent. */
  approvalLinks?: Pick<ApprovalLinks, 'preview' | 'use'>;
  /** Labels, mitigations and the abuse review queue; without it their routes are absent. `log`: the audit log rule replay reads; without it, no replay route. */
  abuse?: { labels: LabelService; cases: CaseService; mitigations: MitigationStore; log?: AbuseReplayLog };
  readiness: Record<string, ReadinessCheck>;
  /** A pino logger: one `debug` line per request (`warn`/`error` when it failed), query values left out; none in tests. */
  logger?: FastifyBaseLogger;
  /** Largest request body, bytes. @default 1 MiB */
  bodyLimit?: number;
  /** The release the OpenAPI document names in `info.version`. @default '0.1.0' */
  version?: string;
  /** Certificate chain and private key (PEM): the server speaks HTTPS. @default plain HTTP */
  https?: { key: Buffer | string; cert: Buffer | string };
  /**
   * Trust the one reverse proxy in front for `X-Forwarded-For`/`-Proto`/`-Host` (Fastify `trustProxy` of one hop):
   * the client address is the one that proxy appended, so a client cannot choose its own by sending the header.
   * @default false
   */
  trustProxy?: boolean;
  /** The names the Host check accepts and the origins CORS lets in. @default the loopback names, no origin */
  hardening?: Pick<HardeningOptions, 'allowedHosts' | 'corsOrigins'>;
}

// Fastify's `trustProxy: 1` as its types accept it: only the socket's peer (the proxy) is believed.
const trustOneHop = (_address: string, hop: number): boolean => hop < 1;

/** Builds the Fastify app; it does not listen, so tests call `app.inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const server = {
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    trustProxy: deps.trustProxy ? trustOneHop : false,
    ...(deps.https ? { https: deps.https } : {}),
    // The router's own refusals (a malformed escape, an over-long parameter) in the API's error shape,
    // with the path echoed bounded like every other message.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) =>
      reply
        .status(err.statusCode ?? 400)
        .type('application/json')
        .send({ error: { code: 'request.invalid', message: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a path parameter of \`${echoPath(req.url.split('?')[0] ?? '')}\` is longer than the API accepts` : `\`${echoPath(req.url.split('?')[0] ?? '')}\` is not a valid URL path` } }),
  };
  const app = deps.logger
    ? Fastify({ ...server, loggerInstance: requestLogger(deps.logger), logController: new LogController({ disableRequestLogging: true }) })
    : Fastify({ ...server, logger: false });
  // First, so a request for a name this server does not answer to reaches no other hook.
  hardenHttp(app, {
    allowedHosts: deps.hardening?.allowedHosts ?? LOOPBACK_HOSTS,
    corsOrigins: deps.hardening?.corsOrigins ?? [],
    tls: deps.https !== undefined,
    trustProxy: deps.trustProxy ?? false,
  });
  // Bodies are validated strictly: an unknown field is an error, never silently dropped or coerced.
  const strict = addFormats(new Ajv({ allErrors: true, strict: false, verbose: true, removeAdditional: false, coerceTypes: false, useDefaults: false }));
  // Query strings are text by nature, so numbers there are coerced.
  const query = addFormats(new Ajv({ allErrors: true, strict: false, verbose: true, removeAdditional: false, coerceTypes: true, useDefaults: true }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : query).compile(schema));
  app.setErrorHandler(handleError);
  // The API speaks JSON only; a text body is a client mistake better named by 415 than by a schema error.
  app.removeContentTypeParser('text/plain');
  jsonBodyParser(app);
  inputGuard(app);
  if (deps.logger) requestLogging(app);
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'request.not_found', message: `no route for \`${req.method} ${echoPath(req.url.split('?')[0] ?? '')}\`` } }),
  );
  // Before any route: the OpenAPI document is built from every route registered after this.
  const routes = collectRoutes(app);
  authenticateRequests(app, { identity: deps.identity, audit: deps.events, clock: deps.clock, failures: deps.authFailures });
  decideRoutes(app, { checkpoint: deps.checkpoint, audit: deps.events, clock: deps.clock });
  decideOutcomeRoutes(app, { checkpoint: deps.checkpoint, audit: deps.audit, events: deps.events, clock: deps.clock });
  identityRoutes(app, { identity: deps.identity, now: () => deps.clock.now() });
  auditRoutes(app, deps);
  if (deps.delivery) deliveryRoutes(app, { delivery: deps.delivery, destinations: deps.destinations ?? [], chain: deps.chain, audit: deps.events, clock: deps.clock });
  if (deps.registry) registryRoutes(app, { registry: deps.registry });
  if (deps.retention) retentionRoutes(app, deps.retention);
  policyRoutes(app, { status: deps.policyStatus, service: deps.policies });
  if (deps.approvals) approvalRoutes(app, { service: deps.approvals });
  if (deps.approvalLinks) approvalLinkRoutes(app, { links: deps.approvalLinks });
  if (deps.abuse) abuseRoutes(app, { ...deps.abuse, audit: deps.events, clock: deps.clock });
  if (deps.abuse?.log) abuseReplayRoutes(app, { audit: deps.abuse.log });
  graphqlRoutes(app, { audit: deps.audit, events: deps.events, clock: deps.clock, identity: deps.identity, registry: deps.registry, policies: deps.policies });
  healthRoutes(app, { checks: deps.readiness });
  apiReferenceRoutes(app, { routes, version: deps.version ?? '0.1.0', access: ROUTE_ACCESS });
  return app;
}
