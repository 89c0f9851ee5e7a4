import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApprovalService } from '../../approvals/index.js';
import { APPROVAL_STATUSES, ApprovalRequestSchema, NO_NUL_PATTERN, type ApprovalStatus } from '../../domain/index.js';
import { credentialOf } from '../auth.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^apr_[0-9a-f]{32}$', description: 'an approval request id (`apr_…`)' }) });
const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(APPROVAL_STATUSES.map((s) => Type.Literal(s)))),
    mine: Type.Optional(Type.Boolean({ description: 'only requests the caller may answer now (pending, not its own, the role held at their scope)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    before: Type.Optional(Type.String({ maxLength: 64, description: 'the last id of the previous page' })),
  },
  { additionalProperties: false },
);
const AnswerBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 4096, pattern: NO_NUL_PATTERN })) }, { additionalProperties: false });
const CancelBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 4096, pattern: NO_NUL_PATTERN })) }, { additionalProperties: false });
const ListAnswer = Type.Object({ approvals: Type.Array(ApprovalRequestSchema), next: Type.Optional(Type.String({ description: 'pass as `before` for the next page' })) });

/**
 * `/api/v1/approvals`: requests the caller may see, one request (what its digest covers, who may
 * answer, the answers so far), approve, deny and cancel. Who may answer is decided per request by the
 * approvals service (the rule's approvers at the request's scope, never the requester or its agent).
 */
export function approvalRoutes(app: FastifyInstance, deps: { service: ApprovalService }): void {
  const { service } = deps;
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/approvals',
    { schema: { summary: 'approval requests the caller may see, newest first; `mine=true&status=pending`: the ones waiting for the caller', querystring: ListQuery, response: { 200: ListAnswer } } },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 50;
      const approvals = await service.list(credentialOf(req), { status: q.status as ApprovalStatus | undefined, answerable: q.mine === true, limit, before: q.before });
      return { approvals, ...(approvals.length === limit ? { next: approvals[approvals.length - 1]!.id } : {}) };
    },
  );
  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/approvals/:id',
    { schema: { summary: 'one approval request: the call exactly as the digest covers it, who may answer, the answers so far and its state (poll it while a call waits)', params: IdParams, response: { 200: ApprovalRequestSchema } } },
    async (req) => service.get(credentialOf(req), req.params.id),
  );
  for (const vote of ['approve', 'deny'] as const) {
    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AnswerBody> }>(
      `/api/v1/approvals/:id/${vote}`,
      { schema: { summary: `${vote} a pending request (one answer per person; never the requester, its agent or, unless the scope allows, the agent's owner)`, params: IdParams, body: AnswerBody, response: { 200: ApprovalRequestSchema } } },
      async (req) => service.answer(credentialOf(req), req.params.id, vote, req.body?.comment),
    );
  }
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CancelBody> }>(
    '/api/v1/approvals/:id/cancel',
    { schema: { summary: 'withdraw a pending request (its agent, or an enforcer, owner or admin at its scope)', params: IdParams, body: CancelBody, response: { 200: ApprovalRequestSchema } } },
    async (req) => service.cancel(credentialOf(req), req.params.id, req.body?.reason),
  );
}
