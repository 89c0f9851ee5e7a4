import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LegalHold, RetentionService, RetentionStore } from '../../audit/index.js';
import { AuditCategorySchema, NO_NUL_PATTERN, ScopePathSchema, WardenError } from '../../domain/index.js';
import { actorOf, holdsAt, type Credential, type Role } from '../../identity/index.js';
import { credentialOf } from '../auth.js';

/** Roles that read retention and holds, and those that change them. */
const READERS: readonly Role[] = ['owner', 'admin', 'auditor'];
const WRITERS: readonly Role[] = ['owner', 'admin'];

/** A hundred years: a period longer than this is a typo for "forever" (clear the period instead). */
export const MAX_RETENTION_DAYS = 36_500;

const Period = Type.Object({ tenantId: Type.String(), category: AuditCategorySchema, days: Type.Integer() });
const Cleared = Type.Object({ tenantId: Type.String(), category: AuditCategorySchema, days: Type.Null() }, { description: 'the category is kept forever again' });
const CategoryParams = Type.Object({ category: AuditCategorySchema });
const PeriodBody = Type.Object({ days: Type.Integer({ minimum: 1, maximum: MAX_RETENTION_DAYS, description: 'keep events of the category this many days' }) }, { additionalProperties: false });

// The wire shape of LegalHold (src/audit/ports.ts), in its order; a bound left open is absent.
const HoldSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  tenantId: Type.String(),
  scope: Type.String(),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  reason: Type.String(),
  createdBy: Type.String({ description: 'the actor id of who placed it (`token:…`, `oidc:…`, `local:…`)' }),
  createdAt: Type.String({ format: 'date-time' }),
  releasedAt: Type.Optional(Type.String({ format: 'date-time' })),
});
const Bound = (which: string) => Type.String({ minLength: 1, maxLength: 64, pattern: NO_NUL_PATTERN, description: `RFC 3339 with an offset, ${which}` });
const HoldBody = Type.Object(
  { scope: ScopePathSchema, reason: Type.String({ minLength: 1, maxLength: 1024, pattern: NO_NUL_PATTERN, description: 'why: a case number, a request' }), from: Type.Optional(Bound('inclusive')), to: Type.Optional(Bound('exclusive')) },
  { additionalProperties: false },
);
const HoldParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const actor = (req: FastifyRequest) => actorOf(credentialOf(req), { ip: req.ip, userAgent: req.headers['user-agent'] });

function forbidden(c: Credential, what: string, scope: string | undefined): WardenError {
  return new WardenError('auth.forbidden', `${what} needs \`owner\` or \`admin\` at ${scope === undefined ? 'the whole tenant' : `scope \`${scope}\``}`, {
    help: `this credential holds ${c.grants.map((g) => `\`${g.role}\` at ${g.scope ?? 'the whole tenant'}`).join(', ') || 'no role'}`,
  });
}

/**
 * Retention periods (per audit category, tenant-wide) and legal holds (per scope) of the caller's
 * tenant. The removal pass itself runs on the server's timer, not on request. Every change is an
 * audit event in the tenant's chain naming the credential.
 */
export function retentionRoutes(app: FastifyInstance, deps: { service: Pick<RetentionService, 'setRetention' | 'addHold' | 'releaseHold'>; store: Pick<RetentionStore, 'retention' | 'holds'> }): void {
  const periods = async (tenantId: string) => (await deps.store.retention()).filter((r) => r.tenantId === tenantId);

  app.get('/api/v1/audit/retention', { schema: { summary: "the tenant's retention periods; a category not listed is kept forever", response: { 200: Type.Object({ periods: Type.Array(Period) }) } } }, async (req) => ({
    periods: await periods(credentialOf(req).tenantId),
  }));

  app.put<{ Params: Static<typeof CategoryParams>; Body: Static<typeof PeriodBody> }>(
    '/api/v1/audit/retention/:category',
    { schema: { summary: 'keep a category this many days; older events are removed by the next pass, except under legal holds', params: CategoryParams, body: PeriodBody, response: { 200: Period } } },
    async (req) => {
      const c = credentialOf(req);
      if (!holdsAt(c.grants, WRITERS, undefined)) throw forbidden(c, 'setting a retention period', undefined);
      await deps.service.setRetention(c.tenantId, req.params.category, req.body.days, actor(req));
      return { tenantId: c.tenantId, category: req.params.category, days: req.body.days };
    },
  );

  app.delete<{ Params: Static<typeof CategoryParams> }>(
    '/api/v1/audit/retention/:category',
    { schema: { summary: 'keep a category forever again', params: CategoryParams, response: { 200: Cleared } } },
    async (req) => {
      const c = credentialOf(req);
      if (!holdsAt(c.grants, WRITERS, undefined)) throw forbidden(c, 'clearing a retention period', undefined);
      await deps.service.setRetention(c.tenantId, req.params.category, undefined, actor(req));
      return { tenantId: c.tenantId, category: req.params.category, days: null };
    },
  );

  app.get('/api/v1/audit/holds', { schema: { summary: 'legal holds (active and released) at the scopes where the role holds', response: { 200: Type.Object({ holds: Type.Array(HoldSchema) }) } } }, async (req) => {
    const c = credentialOf(req);
    return { holds: (await deps.store.holds(c.tenantId)).filter((h) => holdsAt(c.grants, READERS, h.scope)) };
  });

  app.post<{ Body: Static<typeof HoldBody> }>(
    '/api/v1/audit/holds',
    { schema: { summary: 'place a legal hold: retention keeps every event of the scope (and below) in the time range', body: HoldBody, response: { 201: HoldSchema } } },
    async (req, reply) => {
      const c = credentialOf(req);
      const b = req.body;
      if (!holdsAt(c.grants, WRITERS, b.scope)) throw forbidden(c, 'placing a legal hold', b.scope);
      const hold = await deps.service.addHold({ tenantId: c.tenantId, scope: b.scope, reason: b.reason, from: b.from, to: b.to }, actor(req));
      return reply.status(201).send(hold);
    },
  );

  app.post<{ Params: Static<typeof HoldParams> }>(
    '/api/v1/audit/holds/:id/release',
    { schema: { summary: 'release a legal hold; retention may then remove what it kept', params: HoldParams, response: { 200: HoldSchema } } },
    async (req) => {
      const c = credentialOf(req);
      const id = req.params.id;
      const notFound = () => new WardenError('audit.hold_not_found', `no active legal hold \`${id}\` in this tenant`, { help: '`warden audit hold list` shows the holds' });
      const hold: LegalHold | undefined = (await deps.store.holds(c.tenantId)).find((h) => h.id === id && h.releasedAt === undefined);
      if (!hold || !holdsAt(c.grants, READERS, hold.scope)) throw notFound();
      if (!holdsAt(c.grants, WRITERS, hold.scope)) throw forbidden(c, 'releasing this legal hold', hold.scope);
      const released = await deps.service.releaseHold(c.tenantId, id, actor(req));
      if (!released) throw notFound();
      return released;
    },
  );
}
