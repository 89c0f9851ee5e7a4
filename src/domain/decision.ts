import { Type, type Static } from '@sinclair/typebox';
import { FindingSchema } from './finding.js';

export const EFFECTS = ['allow', 'deny', 'require_approval'] as const;
export const EffectSchema = Type.Union(EFFECTS.map((e) => Type.Literal(e)));
export type Effect = (typeof EFFECTS)[number];

/** One rule that decided (or, in `warnings`, would have changed) a decision. */
export const ReasonSchema = Type.Object({
  policy: Type.String(),
  version: Type.Integer(),
  rule: Type.String(),
  effect: EffectSchema,
  message: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String({ description: 'the scope the policy is attached to' })),
  mode: Type.Optional(Type.Union([Type.Literal('enforce'), Type.Literal('warn')])),
  wouldBe: Type.Optional(EffectSchema),
  /** For a rule over `session.history`: the earlier steps of the session that made it hold. */
  steps: Type.Optional(Type.Array(Type.Object({ eventId: Type.String(), tool: Type.String(), at: Type.String() }))),
});
export type Reason = Static<typeof ReasonSchema>;

/** A `when` condition that failed at run time; the decision still follows the fail-closed rule. */
export const EvaluationErrorSchema = Type.Object({
  policy: Type.String(),
  version: Type.Integer(),
  rule: Type.String(),
  message: Type.String(),
  treatedAs: Type.Boolean({ description: 'the value the failing condition was given (fail closed)' }),
});
export type EvaluationError = Static<typeof EvaluationErrorSchema>;

export const ObligationSchema = Type.Object({
  type: Type.String(),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type Obligation = Static<typeof ObligationSchema>;

export const ApprovalRequirementSchema = Type.Object({
  policy: Type.String(),
  rule: Type.String(),
  approvers: Type.Object({ roles: Type.Optional(Type.Array(Type.String())), principals: Type.Optional(Type.Array(Type.String())) }),
  count: Type.Integer({ minimum: 1 }),
  timeout: Type.Optional(Type.String()),
  /** `session`: an approval also releases the same tool and arguments later in the session. */
  reuse: Type.Optional(Type.Union([Type.Literal('once'), Type.Literal('session')])),
  /** Approvers must have signed in with OIDC at most this long ago (a duration such as `15m`). */
  reauth: Type.Optional(Type.String()),
  /** `principal`: the requesting principal confirms it themselves (MCP elicitation); never one of `count`. */
  confirm: Type.Optional(Type.Literal('principal')),
});
export type ApprovalRequirement = Static<typeof ApprovalRequirementSchema>;

/**
 * An external status check a matching rule names (`checks:`), as evaluate hands it to the checks
 * stage. Never on the wire: the stage replaces it with its outcome.
 */
export interface CheckRequirement {
  readonly policy: string;
  /** The policy's version, for the reason a denying check gives. */
  readonly version: number;
  readonly rule: string;
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly onError: 'deny' | 'allow';
  /** How long an answer may be reused for the same action digest; 0: never. */
  readonly cacheMs: number;
}

/** What one external status check answered, as the decision explains it. */
export const CheckOutcomeSchema = Type.Object({
  policy: Type.String(),
  rule: Type.String(),
  name: Type.String(),
  verdict: EffectSchema,
  reason: Type.Optional(Type.String()),
  /** Set when the check did not answer usably (timeout, HTTP error, bad body); `verdict` then follows `onError`. */
  error: Type.Optional(Type.String()),
  cached: Type.Optional(Type.Boolean()),
  ms: Type.Optional(Type.Number()),
});
export type CheckOutcome = Static<typeof CheckOutcomeSchema>;

/** The approval request a `require_approval` decision opened or reuses: what to poll and who must answer. */
export const ApprovalRefSchema = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied'), Type.Literal('expired'), Type.Literal('cancelled')]),
  digest: Type.String(),
  /** Where to poll the request (`GET`), relative to the API's base URL. */
  url: Type.String(),
  expiresAt: Type.String(),
  approvers: Type.Object({ roles: Type.Optional(Type.Array(Type.String())), principals: Type.Optional(Type.Array(Type.String())) }),
  count: Type.Integer(),
  approvals: Type.Integer({ description: 'distinct approvals given so far' }),
  confirm: Type.Optional(Type.Boolean({ description: 'the requesting principal must confirm the call themselves (the gateway asks through MCP elicitation)' })),
});
export type ApprovalRef = Static<typeof ApprovalRefSchema>;

/**
 * Where the `context` the policies saw came from: Warden sets some fields, the caller asserts the
 * rest, which Warden passes on unverified (a policy should not treat them as proof).
 */
export const DecisionContextSchema = Type.Object({
  time: Type.String({ description: "the time the policies saw as `context.time`: Warden's clock, or the time a trusted caller asserted" }),
  claimedTime: Type.Optional(Type.String({ description: "the caller's own `context.time` when it did not decide (the caller is not trusted to assert the time)" })),
  setByWarden: Type.Array(Type.String(), { description: 'context fields Warden set (`context.time` unless a trusted caller asserted it, `context.hour`, `context.weekday`, `context.timezone`)' }),
  assertedByCaller: Type.Array(Type.String(), { description: 'context fields the caller asserted, such as `context.ip`, `context.environment` and `context.claimedTime`' }),
});
export type DecisionContext = Static<typeof DecisionContextSchema>;

/** The checkpoint's answer, with its explanation. */
export const DecisionSchema = Type.Object({
  effect: EffectSchema,
  reasons: Type.Array(ReasonSchema),
  warnings: Type.Array(ReasonSchema),
  findings: Type.Array(FindingSchema),
  obligations: Type.Array(ObligationSchema),
  errors: Type.Optional(Type.Array(EvaluationErrorSchema)),
  approval: Type.Optional(Type.Array(ApprovalRequirementSchema)),
  /** The approval request this decision opened, waits on, or was released by. */
  approvalRequest: Type.Optional(ApprovalRefSchema),
  /** What each external status check of a matching rule answered. */
  checks: Type.Optional(Type.Array(CheckOutcomeSchema)),
  policySetVersion: Type.Optional(Type.String()),
  /** Which context fields Warden set and which the caller asserted; set by the checkpoint. */
  context: Type.Optional(DecisionContextSchema),
  /** The arguments to forward when a `redact` obligation masked some (returned to the caller, not audited). */
  redactedArgs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  auditEventId: Type.Optional(Type.String()),
  /**
   * Set on an allow only when policy marks it reusable (a rule's `cache:`): an enforcement point may
   * allow the same action again for `ttlMs` without asking. Absent whenever a finding, redaction,
   * approval, status check or condition error shaped the decision.
   */
  cache: Type.Optional(Type.Object({ ttlMs: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })),
});
export type Decision = Static<typeof DecisionSchema>;
