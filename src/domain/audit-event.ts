import { Type, type Static } from '@sinclair/typebox';
import { ActionKindSchema } from './action.js';
import { DecisionSchema } from './decision.js';
import { FindingSchema } from './finding.js';
import { uuidv7 } from './ids.js';

/** The audit schema version every event carries; docs/audit-schema.md describes each field. */
export const AUDIT_SCHEMA_VERSION = '1.0';

export const AUDIT_CATEGORIES = ['decision', 'tool_call', 'detection', 'approval', 'admin', 'auth', 'audit_system'] as const;
export const AuditCategorySchema = Type.Union(AUDIT_CATEGORIES.map((c) => Type.Literal(c)));
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

export const AUDIT_OUTCOMES = ['success', 'denied', 'pending', 'failure', 'error'] as const;
export const AuditOutcomeSchema = Type.Union(AUDIT_OUTCOMES.map((o) => Type.Literal(o)));
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

const Actor = Type.Object(
  {
    type: Type.Union([Type.Literal('agent'), Type.Literal('user'), Type.Literal('service'), Type.Literal('system')]),
    id: Type.String(),
    name: Type.Optional(Type.String()),
    ip: Type.Optional(Type.String()),
    userAgent: Type.Optional(Type.String()),
    sessionId: Type.Optional(Type.String()),
    authMethod: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Target = Type.Object(
  {
    kind: Type.Union(['tool', 'resource', 'prompt', 'model', 'server', 'policy', 'registry', 'audit', 'agent', 'token', 'tenant', 'scope', 'route', 'approval'].map((k) => Type.Literal(k))),
    server: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    uri: Type.Optional(Type.String()),
    definitionHash: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Hash-chain fields the audit writer adds: position in the tenant's chain and the links. */
export const IntegritySchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    prevHash: Type.String({ description: '`sha256:` hex of the previous event; 64 zeros for the first' }),
    hash: Type.String({ description: '`sha256:` hex over the RFC 8785 form of the event without `integrity.hash`' }),
  },
  { additionalProperties: false },
);
export type Integrity = Static<typeof IntegritySchema>;

/**
 * One audit record (schema 1.0): a fixed envelope (who, what, where, outcome) plus a typed body.
 * `integrity` and `loggedAt` are set by the writer when the event is committed.
 */
export const AuditEventSchema = Type.Object(
  {
    id: Type.String({ description: 'UUIDv7: time-ordered, the dedupe key' }),
    schemaVersion: Type.String(),
    time: Type.String({ format: 'date-time', description: 'when it happened' }),
    loggedAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the log committed it (set by the writer)' })),
    tenantId: Type.String(),
    scope: Type.String(),
    category: AuditCategorySchema,
    type: Type.String({ description: 'e.g. `tool.call.decided`' }),
    severity: Type.Union(SEVERITIES.map((s) => Type.Literal(s))),
    outcome: AuditOutcomeSchema,
    actor: Actor,
    onBehalfOf: Type.Optional(Type.Object({ id: Type.String(), type: Type.Optional(Type.String()), roles: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false })),
    agent: Type.Optional(Type.Object({ id: Type.String(), kind: Type.Optional(Type.String()), model: Type.Optional(Type.String()), owner: Type.Optional(Type.String()) }, { additionalProperties: false })),
    target: Type.Optional(Target),
    action: Type.Optional(Type.Object({ kind: ActionKindSchema }, { additionalProperties: false })),
    decision: Type.Optional(DecisionSchema),
    /** What detectors saw (detection events); evidence is redacted. */
    findings: Type.Optional(Type.Array(FindingSchema)),
    payload: Type.Optional(
      Type.Object(
        {
          argsDigest: Type.Optional(Type.String()),
          resultDigest: Type.Optional(Type.String()),
          /** Why `resultDigest` is not over the exact result (unpaired surrogates repaired) or is absent. */
          resultDigestNote: Type.Optional(Type.String()),
          args: Type.Optional(Type.Unknown()),
          result: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: false },
      ),
    ),
    latencyMs: Type.Optional(Type.Number()),
    /** The event this one follows from (a tool call's result names its decision event). */
    correlationId: Type.Optional(Type.String()),
    trace: Type.Optional(Type.Object({ traceId: Type.String(), spanId: Type.String() }, { additionalProperties: false })),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    producer: Type.Optional(Type.Object({ product: Type.String(), version: Type.String(), node: Type.Optional(Type.String()) }, { additionalProperties: false })),
    integrity: Type.Optional(IntegritySchema),
  },
  { additionalProperties: false },
);
export type AuditEvent = Static<typeof AuditEventSchema>;

/** The fields a producer must give; the rest get defaults in `newAuditEvent`. */
export type AuditEventInput = Omit<AuditEvent, 'id' | 'schemaVersion' | 'time' | 'tenantId' | 'severity' | 'integrity' | 'loggedAt'> &
  Partial<Pick<AuditEvent, 'id' | 'time' | 'tenantId' | 'severity'>>;

/** Builds a schema-1.0 event: a fresh UUIDv7 id, the given (or current) time, tenant `default`, severity `info`. */
export function newAuditEvent(input: AuditEventInput, now: Date = new Date()): AuditEvent {
  const { id, time, tenantId, severity, ...rest } = input;
  return {
    id: id ?? uuidv7(now.getTime()),
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: time ?? now.toISOString(),
    tenantId: tenantId ?? 'default',
    severity: severity ?? 'info',
    ...rest,
  };
}
