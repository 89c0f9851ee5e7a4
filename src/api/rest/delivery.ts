import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { replayDestination, type ChainReader, type DeliveryStore } from '../../audit/index.js';
import { NO_NUL_PATTERN, WardenError, type AuditSink, type Clock } from '../../domain/index.js';
import { actorOf, holdsAt, type Credential, type Role } from '../../identity/index.js';
import { credentialOf } from '../auth.js';

const Params = Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 128 }) });
const Replay = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: NO_NUL_PATTERN })),
    // INVARIANT: sequence numbers are bigint in the store and exact in JSON only up to 2^53 - 1.
    fromSeq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);

// The wire shapes of DeliveryState and DeadLetter (src/audit/ports.ts): the response serializer drops a
// field missing here. A field the store leaves undefined is absent from the answer.
const DeliveryStateSchema = Type.Object({
  destination: Type.String(),
  tenantId: Type.String(),
  cursorSeq: Type.Integer({ description: 'every event up to here was delivered or dead-lettered' }),
  attempts: Type.Integer(),
  nextAttempt: Type.Optional(Type.String({ format: 'date-time' })),
  lastError: Type.Optional(Type.String()),
  lastSuccess: Type.Optional(Type.String({ format: 'date-time' })),
  delivered: Type.Integer(),
  dead: Type.Integer(),
  head: Type.Optional(Type.Integer({ description: "the last sequence number of the tenant's chain; the lag is `head - cursorSeq`" })),
});
const DeadLetterSchema = Type.Object({
  destination: Type.String(),
  tenantId: Type.String(),
  seq: Type.Integer(),
  eventId: Type.String(),
  error: Type.String(),
  attempts: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
});
const Destinations = { summary: 'cursors, lag and errors of the streaming destinations', response: { 200: Type.Object({ destinations: Type.Array(DeliveryStateSchema) }) } };
const DeadLetters = { summary: 'the events one destination gave up on (first 1000)', params: Params, response: { 200: Type.Object({ deadLetters: Type.Array(DeadLetterSchema) }) } };
const ReplayAccepted = Type.Object({ destination: Type.String(), tenantId: Type.String(), fromSeq: Type.Integer() }, { description: 'the cursor is set back; delivery resumes there' });

/** The 404 of a destination name that is not configured: a replay there would move a cursor nothing reads. */
function unknownDestination(name: string, known: readonly string[]): WardenError {
  return new WardenError('audit.destination_not_found', `no streaming destination named \`${name}\` is configured`, {
    help: known.length > 0 ? `configured destinations: ${known.map((n) => `\`${n}\``).join(', ')}` : 'no destinations are configured; `warden serve --destinations FILE` configures them',
  });
}

/** `GET /api/v1/audit/destinations` (cursors, lag, errors) and replay from a sequence number. */
export function deliveryRoutes(
  app: FastifyInstance,
  deps: { delivery: Pick<DeliveryStore, 'status' | 'replay' | 'deadLetters'>; destinations: readonly string[]; chain?: Pick<ChainReader, 'head'> | undefined; audit: Pick<AuditSink, 'append'>; clock: Clock },
): void {
  const check = (name: string) => {
    if (!deps.destinations.includes(name)) throw unknownDestination(name, deps.destinations);
  };
  // Destinations carry the whole tenant's chain: a role held only at part of the tenant does not reach them.
  const tenantWide = (req: FastifyRequest, roles: readonly Role[]): Credential => {
    const c = credentialOf(req);
    if (!holdsAt(c.grants, roles, undefined)) throw new WardenError('auth.forbidden', `streaming destinations carry the whole tenant's audit chain: this needs ${roles.map((r) => `\`${r}\``).join(' or ')} for the whole tenant, not only at a scope`);
    return c;
  };
  app.get('/api/v1/audit/destinations', { schema: Destinations }, async (req) => {
    const tenantId = tenantWide(req, ['owner', 'admin', 'auditor']).tenantId;
    const states = await deps.delivery.status(tenantId);
    const head = deps.chain && states.length > 0 ? (await deps.chain.head(tenantId)).seq : undefined;
    return { destinations: states.map((s) => (head === undefined ? s : { ...s, head })) };
  });
  app.get<{ Params: Static<typeof Params> }>('/api/v1/audit/destinations/:name/dead-letters', { schema: DeadLetters }, async (req) => {
    check(req.params.name);
    return { deadLetters: await deps.delivery.deadLetters(req.params.name, 1000, tenantWide(req, ['owner', 'admin', 'auditor']).tenantId) };
  });
  app.post<{ Params: Static<typeof Params>; Body: Static<typeof Replay> }>('/api/v1/audit/destinations/:name/replay', { schema: { summary: 'replay the audit chain to one destination from a sequence number', params: Params, body: Replay, response: { 202: ReplayAccepted } } }, async (req, reply) => {
    check(req.params.name);
    const tenantId = tenantWide(req, ['owner', 'admin']).tenantId;
    // The field predates tenants; it may only name the caller's own.
    if (req.body.tenantId !== undefined && req.body.tenantId !== tenantId) throw new WardenError('auth.forbidden', `this credential belongs to tenant \`${tenantId}\` and may not replay another tenant's chain`);
    await replayDestination(deps, { destination: req.params.name, tenantId, fromSeq: req.body.fromSeq }, actorOf(credentialOf(req), { ip: req.ip, userAgent: req.headers['user-agent'] }));
    return reply.status(202).send({ destination: req.params.name, tenantId, fromSeq: req.body.fromSeq });
  });
}
