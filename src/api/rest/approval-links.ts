import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApprovalLinks } from '../../approvals/index.js';
import { ApprovalRequestSchema, NO_NUL_PATTERN } from '../../domain/index.js';
import { credentialOf } from '../auth.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^apr_[0-9a-f]{32}$', description: 'an approval request id (`apr_…`)' }) });
const LinkQuery = Type.Object(
  {
    vote: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
    exp: Type.Integer({ minimum: 0, maximum: 99_999_999_999, description: 'unix seconds: the request\'s expiry' }),
    sig: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'base64url HMAC-SHA256 over `id|vote|digest|exp` with the tenant\'s link key' }),
  },
  { additionalProperties: false },
);
const LinkBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 4096, pattern: NO_NUL_PATTERN })) }, { additionalProperties: false });
const Preview = Type.Object({
  approval: ApprovalRequestSchema,
  vote: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
  linkExpiresAt: Type.String(),
  as: Type.String({ description: 'the person the answer would be recorded for' }),
  allowed: Type.Boolean({ description: 'whether that person may give this answer now' }),
  refusal: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  effect: Type.String({ description: 'what POST to the same URL does' }),
});

/**
 * `/api/v1/approvals/:id/link`: the signed one-time links of approval notifications. Authenticated like
 * every route: a link proves Warden made it for this request, answer and call, never who follows it.
 * `GET` checks it and says what posting it would do (a chat client prefetching a link answers
 * nothing); `POST` answers once, as the caller, under every rule of `POST …/approve|deny`.
 */
export function approvalLinkRoutes(app: FastifyInstance, deps: { links: Pick<ApprovalLinks, 'preview' | 'use'> }): void {
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof LinkQuery> }>(
    '/api/v1/approvals/:id/link',
    { schema: { summary: 'check a signed approve/deny link and see what following it would do for the caller (answers nothing)', params: IdParams, querystring: LinkQuery, response: { 200: Preview } } },
    async (req) => deps.links.preview(credentialOf(req), req.params.id, req.query),
  );
  app.post<{ Params: Static<typeof IdParams>; Querystring: Static<typeof LinkQuery>; Body: Static<typeof LinkBody> }>(
    '/api/v1/approvals/:id/link',
    { schema: { summary: 'answer a request through a signed link, once: the caller must be one who may answer it', params: IdParams, querystring: LinkQuery, body: LinkBody, response: { 200: ApprovalRequestSchema } } },
    async (req) => deps.links.use(credentialOf(req), req.params.id, req.query, req.body?.comment),
  );
}
