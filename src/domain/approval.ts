import { Type, type Static } from '@sinclair/typebox';
import { ActionKindSchema } from './action.js';
import { digestJson } from './canonical.js';

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export const ApprovalStatusSchema = Type.Union(APPROVAL_STATUSES.map((s) => Type.Literal(s)));

/**
 * Exactly what an approval is bound to: the action as it will be forwarded (after redaction), who
 * asks, where, in which session and under which policy release. Approvers are shown this object and
 * nothing else; its digest is the approval's identity, so a change to any field (one argument
 * included) is a new request.
 */
export const ApprovalSubjectSchema = Type.Object(
  {
    tenantId: Type.String(),
    kind: ActionKindSchema,
    scope: Type.String(),
    tool: Type.Optional(Type.Object({ server: Type.String(), name: Type.String() })),
    resource: Type.Optional(Type.Object({ uri: Type.String(), server: Type.Optional(Type.String()) })),
    /** The arguments as they will be forwarded (masked where a scan section redacts). */
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    principal: Type.Optional(Type.String()),
    agent: Type.Optional(Type.String()),
    session: Type.Optional(Type.String()),
    /** The policy release that asked for approval; another release decides afresh. */
    policySetVersion: Type.String(),
  },
  { additionalProperties: false },
);
export type ApprovalSubject = Static<typeof ApprovalSubjectSchema>;

/** The digest an approval is bound to: `sha256:` over the RFC 8785 form of the subject. */
export function approvalDigest(subject: ApprovalSubject): string {
  return digestJson(subject);
}

/**
 * What a `session` approval is reused by: the same kind, tool or resource and arguments, asked by the
 * same agent for the same principal in the same session and scope. The policy release is left out so
 * an unrelated policy change does not ask again; the rule must still ask for approval with `reuse: session`.
 */
export function sessionDigest(subject: ApprovalSubject, policy: Pick<ApprovalPolicy, 'approvers' | 'count' | 'confirm' | 'reauthMinutes' | 'agentOwnerMayApprove'>): string | undefined {
  if (subject.session === undefined) return undefined;
  const { tenantId, kind, scope, tool, resource, args, principal, agent, session } = subject;
  // Who had to approve is part of it: a stricter policy since the approval asks again.
  const who = { approvers: policy.approvers, count: policy.count, confirm: policy.confirm, reauthMinutes: policy.reauthMinutes, agentOwnerMayApprove: policy.agentOwnerMayApprove };
  return digestJson({ reuse: 'session', tenantId, kind, scope, tool, resource, args, principal, agent, session, who });
}

/** One answer to a request: an approval or a denial, by a person, with their comment. */
export const ApprovalVoteSchema = Type.Object({
  vote: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
  /** The approver's principal (a person's id). */
  principal: Type.String(),
  /** The credential they acted with (`token:…`, `oidc:…`). */
  actor: Type.String(),
  name: Type.String(),
  comment: Type.Optional(Type.String()),
  at: Type.String(),
});
export type ApprovalVote = Static<typeof ApprovalVoteSchema>;

/** Who may answer a request and how many must: merged from the rules that asked and the scope's settings. */
export const ApprovalPolicySchema = Type.Object({
  /**
   * Who may approve, one group per rule that asked: an approver must belong to every group (hold one
   * of its roles at the request's scope, or be one of its principals). Empty: no approver is needed
   * (the principal's confirmation alone).
   */
  approvers: Type.Array(Type.Object({ roles: Type.Optional(Type.Array(Type.String())), principals: Type.Optional(Type.Array(Type.String())) })),
  /** Distinct approvals needed; 0 when only the principal's confirmation is asked for. */
  count: Type.Integer({ minimum: 0 }),
  /** The requesting principal must confirm the call themselves (never one of `count`). */
  confirm: Type.Boolean(),
  /** Milliseconds a request stays pending before it expires (a denial). */
  timeoutMs: Type.Integer({ minimum: 1 }),
  /** `once`: releases one call with this digest. `session`: the same tool and arguments in the same session, until it expires. */
  reuse: Type.Union([Type.Literal('once'), Type.Literal('session')]),
  /** Whether the owner of the requesting agent may approve. */
  agentOwnerMayApprove: Type.Boolean(),
  /** An approver must have authenticated with OIDC at most this many minutes ago. */
  reauthMinutes: Type.Optional(Type.Integer({ minimum: 1 })),
  /** The rules that asked (`policy/rule`). */
  rules: Type.Array(Type.String()),
});
export type ApprovalPolicy = Static<typeof ApprovalPolicySchema>;

/** An approval request: the subject it is bound to, who may answer, and its lifecycle. */
export const ApprovalRequestSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  digest: Type.String(),
  status: ApprovalStatusSchema,
  subject: ApprovalSubjectSchema,
  policy: ApprovalPolicySchema,
  /** The owner of the requesting agent as the registry knew it when the request was made. */
  agentOwner: Type.Optional(Type.String()),
  createdAt: Type.String(),
  /** Pending: when it expires. Approved: until when it may be used. */
  expiresAt: Type.String(),
  decidedAt: Type.Optional(Type.String()),
  /** When the requesting principal confirmed the call (rules with `confirm: principal`). */
  confirmedAt: Type.Optional(Type.String()),
  /** When a `once` approval released its call. */
  consumedAt: Type.Optional(Type.String()),
  votes: Type.Array(ApprovalVoteSchema),
});
export type ApprovalRequest = Static<typeof ApprovalRequestSchema>;

/** One configured notification target of new approval requests (a `kind: ApprovalWebhook` document, its secret resolved). */
export interface ApprovalWebhook {
  name: string;
  /** The tenant whose requests it receives. @default 'default' */
  tenant: string;
  /** Requests at this scope or below it are sent. */
  scope: string;
  /** http(s), without credentials (checked at load time). */
  url: string;
  /** The HMAC key of `X-Warden-Signature`. */
  secret: string;
  /** `slack`: `text` + `blocks`; `json`: the request itself. */
  format: 'slack' | 'json';
}
