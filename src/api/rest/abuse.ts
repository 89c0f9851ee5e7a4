import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { assertMayLabel, labelListFilter, liftMitigationAs, mitigationListFilter, type CaseService, type LabelService, type MitigationStore } from '../../abuse/index.js';
import { CASE_STATUSES, CaseSchema, ConnotationSchema, EntityKindSchema, EntityRefSchema, LabelNameSchema, LabelSchema, MitigationSchema, NO_NUL_PATTERN, type AuditSink, type CaseStatus, type Clock } from '../../domain/index.js';
import { actorOf, personOf } from '../../identity/index.js';
import { credentialOf } from '../auth.js';

const Text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, pattern: NO_NUL_PATTERN, ...(description ? { description } : {}) });
const EntityId = Text(512, 'the entity id (URL-encoded in a path)');
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 }));

const LabelQuery = Type.Object(
  { kind: Type.Optional(EntityKindSchema), entity: Type.Optional(EntityId), name: Type.Optional(LabelNameSchema), limit: Limit },
  { additionalProperties: false },
);
const LabelBody = Type.Object(
  {
    entity: EntityRefSchema,
    name: LabelNameSchema,
    connotation: ConnotationSchema,
    reason: Text(1000, 'why the label is there: required'),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'when it lapses (RFC 3339); or `ttlMs`; neither: until removed' })),
    ttlMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86_400_000 })),
  },
  { additionalProperties: false },
);
const LabelParams = Type.Object({ kind: EntityKindSchema, entity: EntityId, name: LabelNameSchema });

const MitigationQuery = Type.Object(
  {
    kind: Type.Optional(EntityKindSchema),
    entity: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: NO_NUL_PATTERN, description: 'with `kind`: one entity\'s mitigations' })),
    live: Type.Optional(Type.Boolean({ description: '`true`: in force now; `false`: lifted or over; absent: all' })),
    limit: Limit,
  },
  { additionalProperties: false },
);
const MitigationParams = Type.Object({ id: Text(128, 'a mitigation id') });

const CaseParams = Type.Object({ id: Type.String({ pattern: '^case_[0-9a-f]{32}$', description: 'an abuse case id (`case_…`)' }) });
const CaseQuery = Type.Object(
  {
    queue: Type.Optional(Text(128)),
    status: Type.Optional(Type.Union(CASE_STATUSES.map((s) => Type.Literal(s)))),
    rule: Type.Optional(Text(256)),
    overdue: Type.Optional(Type.Boolean({ description: '`true`: only cases not closed and past their `dueAt`' })),
    after: Type.Optional(Type.String({ pattern: '^case_[0-9a-f]{32}$', description: 'the `next` of the previous page' })),
    limit: Limit,
  },
  { additionalProperties: false },
);
const DecideBody = Type.Object(
  {
    outcome: Type.Union([Type.Literal('confirmed'), Type.Literal('false_positive'), Type.Literal('escalated')]),
    note: Type.Optional(Text(4096)),
    queue: Type.Optional(Text(128, 'escalated only: the queue to send it to (default: its route\'s `escalateTo`, else `escalated`)')),
  },
  { additionalProperties: false },
);
const NoteBody = Type.Object({ text: Text(4096) }, { additionalProperties: false });
const RuleStatsSchema = Type.Object({
  rule: Type.String(),
  opened: Type.Integer(),
  confirmed: Type.Integer(),
  falsePositive: Type.Integer(),
  escalated: Type.Integer(),
  open: Type.Integer(),
  precision: Type.Optional(Type.Number({ description: 'confirmed / (confirmed + falsePositive); absent until one is decided' })),
});

/**
 * `/api/v1/abuse`: labels on entities, mitigations in force, and the review queue of cases (claim,
 * release, decide, notes) with each rule's precision. The case service checks roles at each case's
 * scope; labels and mitigations need the role tenant-wide (or at the labelled scope).
 */
export function abuseRoutes(app: FastifyInstance, deps: { labels: LabelService; cases: CaseService; mitigations: MitigationStore; audit: Pick<AuditSink, 'append'>; clock: Clock }): void {
  const { labels, cases, mitigations } = deps;

  app.get<{ Querystring: Static<typeof LabelQuery> }>(
    '/api/v1/abuse/labels',
    { schema: { summary: 'live labels, newest first; filter by entity kind, entity or name', querystring: LabelQuery, response: { 200: Type.Object({ labels: Type.Array(LabelSchema) }) } } },
    async (req) => {
      return { labels: await labels.list(credentialOf(req).tenantId, labelListFilter(req.query)) };
    },
  );
  app.post<{ Body: Static<typeof LabelBody> }>(
    '/api/v1/abuse/labels',
    { schema: { summary: 'put a label on an entity (replacing one of the same name); a reason is required', body: LabelBody, response: { 201: LabelSchema } } },
    async (req, reply) => {
      const c = credentialOf(req);
      assertMayLabel(c, req.body.entity);
      return reply.status(201).send(await labels.add(c.tenantId, req.body, { kind: 'analyst', principal: personOf(c) }, actorOf(c, { ip: req.ip })));
    },
  );
  app.delete<{ Params: Static<typeof LabelParams> }>(
    '/api/v1/abuse/labels/:kind/:entity/:name',
    { schema: { summary: 'remove a live label (the entity id URL-encoded)', params: LabelParams, response: { 204: Type.Null() } } },
    async (req, reply) => {
      const c = credentialOf(req);
      const entity = { kind: req.params.kind, id: req.params.entity };
      assertMayLabel(c, entity);
      await labels.remove(c.tenantId, entity, req.params.name, actorOf(c, { ip: req.ip }));
      return reply.status(204).send();
    },
  );

  app.get<{ Querystring: Static<typeof MitigationQuery> }>(
    '/api/v1/abuse/mitigations',
    { schema: { summary: 'mitigations (deny, throttle, kill), newest first; `live=true`: those in force', querystring: MitigationQuery, response: { 200: Type.Object({ mitigations: Type.Array(MitigationSchema) }) } } },
    async (req) => {
      return { mitigations: await mitigations.list(credentialOf(req).tenantId, mitigationListFilter(req.query), deps.clock.now()) };
    },
  );
  app.post<{ Params: Static<typeof MitigationParams> }>(
    '/api/v1/abuse/mitigations/:id/lift',
    { schema: { summary: 'lift a mitigation before its end', params: MitigationParams, response: { 200: MitigationSchema } } },
    async (req) => {
      const c = credentialOf(req);
      return liftMitigationAs({ store: mitigations, audit: deps.audit, clock: deps.clock }, c, req.params.id, actorOf(c, { ip: req.ip }));
    },
  );

  app.get<{ Querystring: Static<typeof CaseQuery> }>(
    '/api/v1/abuse/cases',
    {
      schema: {
        summary: 'cases at scopes where the caller may read them, newest first; filter by queue, status, rule or `overdue=true`',
        querystring: CaseQuery,
        response: { 200: Type.Object({ cases: Type.Array(CaseSchema), next: Type.Optional(Type.String({ description: 'pass as `after` for the next page' })) }) },
      },
    },
    async (req) => {
      const q = req.query;
      return cases.list(credentialOf(req), { queue: q.queue, status: q.status as CaseStatus | undefined, rule: q.rule, overdue: q.overdue, after: q.after, limit: q.limit ?? 50 });
    },
  );
  app.get<{ Params: Static<typeof CaseParams> }>(
    '/api/v1/abuse/cases/:id',
    { schema: { summary: 'one case: its evidence, what confirming applies, its claim, notes and decision', params: CaseParams, response: { 200: CaseSchema } } },
    async (req) => cases.get(credentialOf(req), req.params.id),
  );
  app.post<{ Params: Static<typeof CaseParams> }>(
    '/api/v1/abuse/cases/:id/claim',
    { schema: { summary: 'claim an open case (409 `abuse.case_claimed` naming who holds it)', params: CaseParams, response: { 200: CaseSchema } } },
    async (req) => cases.claim(credentialOf(req), req.params.id),
  );
  app.post<{ Params: Static<typeof CaseParams> }>(
    '/api/v1/abuse/cases/:id/release',
    { schema: { summary: "release one's claim (an owner or admin at the case's scope may release anyone's)", params: CaseParams, response: { 200: CaseSchema } } },
    async (req) => cases.release(credentialOf(req), req.params.id),
  );
  app.post<{ Params: Static<typeof CaseParams>; Body: Static<typeof DecideBody> }>(
    '/api/v1/abuse/cases/:id/decide',
    { schema: { summary: 'decide a case one has claimed: `confirmed` applies what it proposes, `false_positive` undoes what its rule applied, `escalated` moves it to another queue', params: CaseParams, body: DecideBody, response: { 200: CaseSchema } } },
    async (req) => cases.decide(credentialOf(req), req.params.id, req.body),
  );
  app.post<{ Params: Static<typeof CaseParams>; Body: Static<typeof NoteBody> }>(
    '/api/v1/abuse/cases/:id/notes',
    { schema: { summary: 'add a note to a case', params: CaseParams, body: NoteBody, response: { 200: CaseSchema } } },
    async (req) => cases.note(credentialOf(req), req.params.id, req.body.text),
  );
  app.get(
    '/api/v1/abuse/rules/stats',
    { schema: { summary: "each abuse rule's cases: opened, confirmed, false positives, escalated, open, and its precision", response: { 200: Type.Object({ rules: Type.Array(RuleStatsSchema) }) } } },
    async (req) => ({ rules: await cases.ruleStats(credentialOf(req)) }),
  );
}
