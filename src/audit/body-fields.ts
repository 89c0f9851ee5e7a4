import type { AuditEvent } from '../domain/index.js';

/** A member that is present but not a JSON string (a number, boolean, object or array). */
export const NOT_STRING: unique symbol = Symbol('not a string');

/** A member's value as a column sees it: a string, absent (or JSON null), or something else. */
export type FieldValue = string | null | typeof NOT_STRING;

/**
 * The members of an event body that its indexed columns and the verifier read. Nested ones are
 * null when their parent is absent or not an object, as `e->'agent'->>'id'` is in SQL.
 */
export interface BodyFields {
  id: FieldValue;
  time: FieldValue;
  loggedAt: FieldValue;
  tenantId: FieldValue;
  category: FieldValue;
  type: FieldValue;
  scope: FieldValue;
  outcome: FieldValue;
  actionKind: FieldValue;
  agentId: FieldValue;
  actorType: FieldValue;
  actorId: FieldValue;
  principalId: FieldValue;
  server: FieldValue;
  targetKind: FieldValue;
  targetName: FieldValue;
  effect: FieldValue;
  /** `integrity.seq` as its JSON number text (`"12"`); NOT_STRING when it is not a number. */
  seq: FieldValue;
  prevHash: FieldValue;
}

const valueOf = (v: unknown): FieldValue => (v === undefined || v === null ? null : typeof v === 'string' ? v : NOT_STRING);
const nested = (o: unknown, k: string): FieldValue =>
  o !== null && typeof o === 'object' && !Array.isArray(o) ? valueOf((o as Record<string, unknown>)[k]) : null;

/** The fields, read from an event object (the writer's, or a parsed body). */
export function fieldsOfEvent(e: AuditEvent): BodyFields {
  const r = e as unknown as Record<string, unknown>;
  const seq = nested(r.integrity, 'seq');
  const rawSeq = (r.integrity as { seq?: unknown } | undefined)?.seq;
  return {
    id: valueOf(r.id), time: valueOf(r.time), loggedAt: valueOf(r.loggedAt), tenantId: valueOf(r.tenantId), category: valueOf(r.category),
    type: valueOf(r.type), scope: valueOf(r.scope), outcome: valueOf(r.outcome), actionKind: nested(r.action, 'kind'),
    agentId: nested(r.agent, 'id'), actorType: nested(r.actor, 'type'), actorId: nested(r.actor, 'id'), principalId: nested(r.onBehalfOf, 'id'),
    server: nested(r.target, 'server'), targetKind: nested(r.target, 'kind'), targetName: nested(r.target, 'name'), effect: nested(r.decision, 'effect'),
    // As canonical JSON prints it (ES form), as `->>` prints a whole number.
    seq: typeof rawSeq === 'number' && Number.isFinite(rawSeq) ? String(rawSeq) : seq === null ? null : NOT_STRING,
    prevHash: nested(r.integrity, 'prevHash'),
  };
}
