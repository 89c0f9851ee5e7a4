import { Type, type Static } from '@sinclair/typebox';
import { FINDING_CATEGORIES } from './finding.js';
import { NO_NUL_PATTERN } from './validate.js';

/**
 * What labels, mitigations and cases are about. `scope` is a scope path (a repository or project),
 * `session` an agent session's id, `ip` an address as the transport saw it.
 */
export const ENTITY_KINDS = ['agent', 'principal', 'session', 'server', 'tool', 'ip', 'scope'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];
export const EntityKindSchema = Type.Union(ENTITY_KINDS.map((k) => Type.Literal(k)));

export const EntityRefSchema = Type.Object(
  {
    kind: EntityKindSchema,
    id: Type.String({ minLength: 1, maxLength: 512, pattern: NO_NUL_PATTERN }),
  },
  { additionalProperties: false },
);
export type EntityRef = Static<typeof EntityRefSchema>;

/** A label's name: what conditions test with `"name" in agent.labels`. */
export const LABEL_NAME_PATTERN = '^[a-z0-9][a-z0-9_.:-]{0,63}$';
export const LabelNameSchema = Type.String({ pattern: LABEL_NAME_PATTERN, description: 'lower-case letters, digits, `_ . : -`; at most 64' });

export const CONNOTATIONS = ['bad', 'good', 'neutral'] as const;
export type Connotation = (typeof CONNOTATIONS)[number];
export const ConnotationSchema = Type.Union(CONNOTATIONS.map((c) => Type.Literal(c)));

/** Who put a label, a mitigation or a case there: an abuse rule (by name) or a person. */
export const AbuseSourceSchema = Type.Union([
  Type.Object({ kind: Type.Literal('rule'), rule: Type.String() }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('analyst'), principal: Type.String() }, { additionalProperties: false }),
]);
export type AbuseSource = Static<typeof AbuseSourceSchema>;

/**
 * A label on an entity (Osprey's labels): a name with a connotation, why it is there, who put it, and
 * when it lapses. Policies see the names of an entity's live labels (`agent.labels`,
 * `principal.labels`, `session.labels`); a label past its expiry is gone for every reader.
 */
export const LabelSchema = Type.Object(
  {
    tenantId: Type.String(),
    entity: EntityRefSchema,
    name: LabelNameSchema,
    connotation: ConnotationSchema,
    /** Required: an analyst reading the label later must learn why without digging. */
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    source: AbuseSourceSchema,
    createdAt: Type.String(),
    /** RFC 3339; absent: until removed. */
    expiresAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Label = Static<typeof LabelSchema>;

/**
 * A mitigation in force against an entity until a time: `deny` refuses its actions, `throttle` limits
 * its calls to `limit` per `windowMs`, `kill` closes its live sessions (gateways sweep for kills newer
 * than their last look, so a kill is kept only briefly). Lifted early by an analyst's false-positive
 * decision or by hand.
 */
export const MITIGATION_KINDS = ['deny', 'throttle', 'kill'] as const;
export type MitigationKind = (typeof MITIGATION_KINDS)[number];
export const MitigationSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    entity: EntityRefSchema,
    kind: Type.Union(MITIGATION_KINDS.map((k) => Type.Literal(k))),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    source: AbuseSourceSchema,
    /** The case it belongs to, when a rule opened one with it. */
    caseId: Type.Optional(Type.String()),
    /** throttle only. */
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    windowMs: Type.Optional(Type.Integer({ minimum: 1 })),
    createdAt: Type.String(),
    until: Type.String(),
    liftedAt: Type.Optional(Type.String()),
    liftedBy: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Mitigation = Static<typeof MitigationSchema>;

/**
 * What confirming a case does (Coop's "confirm → apply"): the mitigations its rule proposed rather
 * than applied at once (a `review` verdict), or that an analyst chose. `forMs` bounds deny and throttle.
 */
export const ProposedMitigationSchema = Type.Union([
  Type.Object({ kind: Type.Literal('deny'), forMs: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('throttle'), limit: Type.Integer({ minimum: 1 }), windowMs: Type.Integer({ minimum: 1 }), forMs: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('suspend') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('kill') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('label'), name: LabelNameSchema, connotation: ConnotationSchema, forMs: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
]);
export type ProposedMitigation = Static<typeof ProposedMitigationSchema>;

export const CASE_STATUSES = ['open', 'claimed', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const CASE_OUTCOMES = ['confirmed', 'false_positive', 'escalated'] as const;
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];
export const SEVERITIES_ABUSE = ['low', 'medium', 'high', 'critical'] as const;

/** What a rule saw when it opened a case: the events, the findings, the labels and the feature values. */
export const CaseEvidenceSchema = Type.Object(
  {
    eventIds: Type.Array(Type.String(), { maxItems: 100 }),
    findings: Type.Array(
      Type.Object({ category: Type.Union(FINDING_CATEGORIES.map((c) => Type.Literal(c))), type: Type.String(), score: Type.Number() }, { additionalProperties: false }),
      { maxItems: 100 },
    ),
    labels: Type.Array(Type.String(), { maxItems: 100 }),
    features: Type.Record(Type.String(), Type.Number()),
  },
  { additionalProperties: false },
);
export type CaseEvidence = Static<typeof CaseEvidenceSchema>;

/**
 * A case in the review queue: opened by a rule's `case` verdict (or an analyst) about one entity,
 * routed into a queue by scope and category, claimed by one analyst at a time, decided once.
 * The mitigations the rule applied with it are listed, so a false positive lifts exactly those.
 */
export const CaseSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    queue: Type.String(),
    category: Type.String(),
    severity: Type.Union(SEVERITIES_ABUSE.map((s) => Type.Literal(s))),
    scope: Type.String(),
    subject: EntityRefSchema,
    summary: Type.String(),
    source: AbuseSourceSchema,
    evidence: CaseEvidenceSchema,
    /** Ids of the mitigations applied with it (by the rule, or on confirmation): a false positive lifts these. */
    mitigations: Type.Array(Type.String()),
    /** What confirming it applies (none: confirming only closes it). */
    proposed: Type.Array(ProposedMitigationSchema),
    /** Whether the rule suspended the agent or labelled the subject, so a false positive undoes it. */
    suspended: Type.Optional(Type.Boolean()),
    labelsAdded: Type.Optional(Type.Array(LabelNameSchema)),
    status: Type.Union(CASE_STATUSES.map((s) => Type.Literal(s))),
    claimedBy: Type.Optional(Type.String()),
    claimedAt: Type.Optional(Type.String()),
    outcome: Type.Optional(Type.Union(CASE_OUTCOMES.map((s) => Type.Literal(s)))),
    decidedBy: Type.Optional(Type.String()),
    decidedAt: Type.Optional(Type.String()),
    notes: Type.Array(Type.Object({ by: Type.String(), at: Type.String(), text: Type.String() }, { additionalProperties: false })),
    /** When the queue's SLA runs out for a first decision. */
    dueAt: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type Case = Static<typeof CaseSchema>;

/**
 * The kill switch's order as gateways apply it: close the live sessions `agentId` (in `tenantId`)
 * opened before `at`. Made by the abuse platform, applied by every gateway's HTTP listener.
 */
export interface AgentKill {
  id: string;
  tenantId: string;
  agentId: string;
  at: Date;
  reason: string;
  /** The abuse rule that gave it, or the analyst. */
  by: string;
}
