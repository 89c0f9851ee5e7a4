import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PolicyStatus } from '../../config/index.js';
import { PolicyRecordSchema, PolicyVersionSchema } from '../../policies/records.js';
import { MAX_POLICY_SOURCE, type PolicyService } from '../../policies/service.js';
import { compileValidator } from '../../domain/index.js';
import { credentialOf } from '../auth.js';
import { RequestInvalid } from '../errors.js';
import { sendProgress, wantsNdjson } from './ndjson-progress.js';

/** The wire shape of `PolicyStatus` (src/config/policy-watcher.ts); a field missing here is dropped from the answer. */
const PolicyStatusSchema = Type.Object({
  version: Type.String({ description: "the release in force for the caller's tenant: a hash over the policy files and the tenant's active managed versions" }),
  loadedAt: Type.String({ format: 'date-time', description: 'when this set took effect' }),
  policies: Type.Array(
    Type.Object({
      name: Type.String(),
      version: Type.Integer(),
      mode: Type.Union([Type.Literal('enforce'), Type.Literal('warn'), Type.Literal('disabled')]),
      scopes: Type.Array(Type.String()),
      rules: Type.Integer({ description: 'how many rules the policy holds' }),
      file: Type.String({ description: 'the file it was read from, or `managed:<name>@<version>`' }),
    }),
  ),
  lastError: Type.Optional(
    Type.Object(
      { at: Type.String({ format: 'date-time' }), messages: Type.Array(Type.String()) },
      { description: 'set while the files on disk (or the managed policies with them) fail to load; the last good set stays in force' },
    ),
  ),
  entities: Type.Optional(Type.Array(PolicyRecordSchema, { description: 'the policies the caller may read: file ones (read-only) and managed ones' })),
});

const NameParams = Type.Object({ name: Type.String({ maxLength: 128 }) });
const VersionParams = Type.Object({ name: Type.String({ maxLength: 128 }), n: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const DiffQuery = Type.Object({ from: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), to: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, { additionalProperties: false });
const PutQuery = Type.Object({ path: Type.Optional(Type.String({ maxLength: 256, description: 'the file `warden policy pull` writes this policy to, relative (default `<name>.yaml`)' })) }, { additionalProperties: false });
const ApproveBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
const checkApprove = compileValidator(ApproveBody);
const CommentBody = Type.Object({ comment: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
const RollbackBody = Type.Object({ version: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the version whose content becomes active again (it must have been active before)' }) }, { additionalProperties: false });
const PolicyAnswer = Type.Object({ policy: PolicyRecordSchema, active: Type.Union([PolicyVersionSchema, Type.Null()]) });
const DiffSchema = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  unified: Type.String({ description: 'a unified diff of the two YAML texts' }),
  addedRules: Type.Array(Type.String()),
  removedRules: Type.Array(Type.String()),
  changedRules: Type.Array(Type.String({ description: '`policy/rule`' })),
  changedSettings: Type.Array(Type.String({ description: 'scopes whose ScopeSettings changed' })),
});

const ReplayBody = Type.Object(
  {
    drafts: Type.Array(
      Type.Union([
        Type.Object({ name: Type.String({ maxLength: 128 }), version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, { additionalProperties: false }),
        Type.Object({ name: Type.String({ maxLength: 128 }), source: Type.String({ maxLength: MAX_POLICY_SOURCE, description: 'YAML not stored as a version' }) }, { additionalProperties: false }),
      ]),
      { minItems: 1, maxItems: 100, description: 'each replaces the active version of the policy of its name (or is added)' },
    ),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
    samples: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'decisions shown per group of changes (default 5)' })),
  },
  { additionalProperties: false },
);
const ReplayChangeSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  rule: Type.String(),
  count: Type.Integer(),
  samples: Type.Array(
    Type.Object({
      eventId: Type.String(),
      time: Type.String(),
      scope: Type.String(),
      target: Type.String(),
      from: Type.Object({ effect: Type.String(), reasons: Type.Array(Type.String()) }),
      to: Type.Object({ effect: Type.String(), reasons: Type.Array(Type.String()) }),
    }),
  ),
});
const ReplayReportSchema = Type.Object({
  total: Type.Integer({ description: 'decision events in the range' }),
  read: Type.Integer(),
  evaluated: Type.Integer(),
  changed: Type.Integer(),
  notReplayable: Type.Object({ argsNotCaptured: Type.Integer(), registryRefusal: Type.Integer(), unreadable: Type.Integer() }),
  driftFromRecorded: Type.Integer({ description: 'evaluated events the active set decides today otherwise than recorded' }),
  changes: Type.Array(ReplayChangeSchema),
  durationMs: Type.Integer(),
  eventsPerSecond: Type.Integer(),
});

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** `If-Match: "3"` (or `3`, `W/"3"`): the version number the writer saw; `*` or none: no check. */
function ifMatchOf(req: FastifyRequest): number | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined || raw.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"?([0-9]{1,9})"?\s*$/.exec(raw);
  if (!m) throw new RequestInvalid('`If-Match` must be the version number the change is based on, as the `ETag` gave it (`"3"`)', [{ path: 'If-Match', message: 'not a version number' }]);
  return Number(m[1]);
}

const wantsYaml = (req: FastifyRequest) => {
  const accept = req.headers.accept ?? '';
  return YAML_TYPES.some((t) => accept.includes(t));
};

const sendYaml = (reply: FastifyReply, text: string) => reply.type('application/yaml; charset=utf-8').send(text);

/**
 * `/api/v1/policies`: the set in force, and policies as managed entities (versions, review,
 * activation, rollback, archive). Every route acts in the caller's tenant, with its roles checked at
 * every scope a policy covers (src/policies/service.ts); every change is an audit event.
 */
export function policyRoutes(app: FastifyInstance, deps: { status: (tenantId: string) => PolicyStatus; service?: PolicyService | undefined }): void {
  app.get('/api/v1/policies', { schema: { summary: "the policy set in force for the caller's tenant, the policies the caller may read, and why the last reload failed if it did", response: { 200: PolicyStatusSchema } } }, async (req) => {
    const c = credentialOf(req);
    const status = deps.status(c.tenantId);
    return deps.service ? { ...status, entities: await deps.service.list(c) } : status;
  });

  const service = deps.service;
  if (!service) return;

  for (const type of YAML_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: MAX_POLICY_SOURCE }, (_req, body, done) => done(null, body));
  }

  app.post<{ Body: Static<typeof ReplayBody> }>(
    '/api/v1/policies/replay',
    {
      schema: {
        summary: 'decide recorded decisions again with drafts in place and report what changes; `Accept: application/x-ndjson` streams `{"progress"}` lines, then `{"report"}`',
        body: ReplayBody,
        response: { 200: ReplayReportSchema },
      },
    },
    async (req, reply) => {
      const c = credentialOf(req);
      const body = req.body;
      const request = { drafts: body.drafts, from: body.from, to: body.to, scope: body.scope, samples: body.samples };
      if (!wantsNdjson(req)) return service.replay(c, request);
      return sendProgress(req, reply, (onProgress) => service.replay(c, request, onProgress));
    },
  );

  app.get<{ Params: Static<typeof NameParams> }>(
    '/api/v1/policies/:name',
    { schema: { summary: 'a policy and its active version; with `Accept: application/yaml`, the active YAML exactly as submitted', params: NameParams, response: { 200: PolicyAnswer } } },
    async (req, reply) => {
      const got = await service.get(credentialOf(req), req.params.name);
      void reply.header('etag', `"${got.policy.latestVersion}"`);
      if (wantsYaml(req)) {
        const text = got.fileSource ?? got.active?.source;
        if (text === undefined) return reply.status(404).send({ error: { code: 'policy.not_found', message: `policy \`${req.params.name}\` has no active version` } });
        return sendYaml(reply, text);
      }
      return { policy: got.policy, active: got.active ?? null };
    },
  );

  app.put<{ Params: Static<typeof NameParams>; Querystring: Static<typeof PutQuery> }>(
    '/api/v1/policies/:name',
    {
      schema: {
        summary: 'a new draft version from a YAML body (`Content-Type: application/yaml`); `If-Match` the latest version seen (a stale one is 412), `If-None-Match: *` to create only',
        params: NameParams,
        querystring: PutQuery,
        response: { 201: PolicyVersionSchema },
      },
    },
    async (req, reply) => {
      if (typeof req.body !== 'string') throw new RequestInvalid('send the policy as YAML with `Content-Type: application/yaml`', [{ path: 'body', message: 'not YAML' }]);
      const create = req.headers['if-none-match']?.trim() === '*';
      const v = await service.put(credentialOf(req), req.params.name, req.body, create ? null : ifMatchOf(req), req.query.path);
      return reply.status(201).header('etag', `"${v.number}"`).send(v);
    },
  );

  app.delete<{ Params: Static<typeof NameParams> }>(
    '/api/v1/policies/:name',
    { schema: { summary: 'archive a policy: no version stays in force; history is kept', params: NameParams, response: { 200: PolicyRecordSchema } } },
    async (req) => service.archive(credentialOf(req), req.params.name, ifMatchOf(req)),
  );

  app.get<{ Params: Static<typeof NameParams> }>(
    '/api/v1/policies/:name/versions',
    { schema: { summary: 'every version of a policy, oldest first, with its reviews', params: NameParams, response: { 200: Type.Object({ versions: Type.Array(PolicyVersionSchema) }) } } },
    async (req) => ({ versions: await service.versions(credentialOf(req), req.params.name) }),
  );

  app.get<{ Params: Static<typeof VersionParams> }>(
    '/api/v1/policies/:name/versions/:n',
    { schema: { summary: 'one version; with `Accept: application/yaml`, its YAML exactly as submitted', params: VersionParams, response: { 200: PolicyVersionSchema } } },
    async (req, reply) => {
      const v = await service.version(credentialOf(req), req.params.name, req.params.n);
      return wantsYaml(req) ? sendYaml(reply, v.source) : v;
    },
  );

  app.get<{ Params: Static<typeof NameParams>; Querystring: Static<typeof DiffQuery> }>(
    '/api/v1/policies/:name/diff',
    { schema: { summary: 'a unified diff of two versions and the rules that changed', params: NameParams, querystring: DiffQuery, response: { 200: DiffSchema } } },
    async (req) => service.diff(credentialOf(req), req.params.name, req.query.from, req.query.to),
  );

  app.post<{ Params: Static<typeof VersionParams> }>(
    '/api/v1/policies/:name/versions/:n/submit',
    { schema: { summary: 'submit a draft for review', params: VersionParams, response: { 200: PolicyVersionSchema } } },
    async (req) => service.submit(credentialOf(req), req.params.name, req.params.n),
  );

  app.post<{ Params: Static<typeof VersionParams>; Body: Static<typeof ApproveBody> | undefined }>(
    '/api/v1/policies/:name/versions/:n/approve',
    { schema: { summary: 'approve a version in review (never your own); an optional JSON body `{ "comment": "…" }`', params: VersionParams, response: { 200: PolicyVersionSchema } } },
    async (req) => {
      // The body is optional, which a route body schema cannot say: checked here.
      let comment: string | undefined;
      if (req.body !== undefined && req.body !== null) {
        const r = checkApprove(req.body);
        if (!r.ok) throw new RequestInvalid(`the request body is invalid: ${r.issues.map((i) => `\`${i.path}\` ${i.message}`).join('; ')}`, r.issues);
        comment = r.value.comment;
      }
      return service.approve(credentialOf(req), req.params.name, req.params.n, comment);
    },
  );

  app.post<{ Params: Static<typeof VersionParams>; Body: Static<typeof CommentBody> }>(
    '/api/v1/policies/:name/versions/:n/comment',
    { schema: { summary: 'a review comment on a version (approves nothing; the author may answer)', params: VersionParams, body: CommentBody, response: { 200: PolicyVersionSchema } } },
    async (req) => service.comment(credentialOf(req), req.params.name, req.params.n, req.body.comment),
  );

  app.post<{ Params: Static<typeof VersionParams> }>(
    '/api/v1/policies/:name/versions/:n/activate',
    { schema: { summary: 'put an approved version in force on every replica; `If-Match` the latest version seen', params: VersionParams, response: { 200: PolicyVersionSchema } } },
    async (req) => service.activate(credentialOf(req), req.params.name, req.params.n, ifMatchOf(req)),
  );

  app.post<{ Params: Static<typeof NameParams>; Body: Static<typeof RollbackBody> }>(
    '/api/v1/policies/:name/rollback',
    { schema: { summary: 'a new version, in force at once, with the content of one that was active before; history is never rewritten', params: NameParams, body: RollbackBody, response: { 200: PolicyVersionSchema } } },
    async (req) => service.rollback(credentialOf(req), req.params.name, req.body.version, ifMatchOf(req)),
  );
}
