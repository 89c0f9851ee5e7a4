import { Type, type Static } from '@sinclair/typebox';
import { ActionKindSchema } from './action.js';
import { DecisionSchema, EffectSchema } from './decision.js';

export const AUDIT_SCHEMA_VERSION = '1.0';

export const AUDIT_CATEGORIES = ['decision', 'tool_call', 'detection', 'approval', 'admin', 'auth', 'audit_system'] as const;
export const AuditCategorySchema = Type.Union(AUDIT_CATEGORIES.map((c) => Type.Literal(c)));
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/**
 * One audit record (schema v1.0). Issue #3 extends the envelope (hash chain, OCSF mapping);
 * fields here keep their meaning.
 */
export const AuditEventSchema = Type.Object({
  id: Type.String({ description: 'UUIDv7: time-ordered, the dedupe key' }),
  schemaVersion: Type.String(),
  time: Type.String({ format: 'date-time' }),
  category: AuditCategorySchema,
  type: Type.String({ description: 'e.g. `tool.call.decided`' }),
  scope: Type.String(),
  actionKind: Type.Optional(ActionKindSchema),
  agentId: Type.Optional(Type.String()),
  principalId: Type.Optional(Type.String()),
  server: Type.Optional(Type.String()),
  tool: Type.Optional(Type.String()),
  effect: Type.Optional(EffectSchema),
  decision: Type.Optional(DecisionSchema),
  argsDigest: Type.Optional(Type.String({ description: 'sha256 over the canonical JSON of the arguments' })),
  client: Type.Optional(Type.Object({ ip: Type.Optional(Type.String()), userAgent: Type.Optional(Type.String()) })),
  latencyMs: Type.Optional(Type.Number()),
});
export type AuditEvent = Static<typeof AuditEventSchema>;
