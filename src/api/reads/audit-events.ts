import { Type, type Static } from '@sinclair/typebox';
import type { AuditPage, AuditReader } from '../../audit/index.js';
import { AuditCategorySchema, AuditOutcomeSchema, EffectSchema, type AuditEvent } from '../../domain/index.js';
import { AUDIT_BODY_READERS, holdsAt, readableScopes, type Credential, type Role } from '../../identity/index.js';

/** Roles that read the audit log, and those of them that see captured call bodies. */
const READERS: readonly Role[] = ['owner', 'admin', 'auditor', 'analyst'];
const BODY_READERS = AUDIT_BODY_READERS;

/** The event without captured call bodies (their digests stay, so the chain can still be checked against an export). */
function withoutBodies(e: AuditEvent): AuditEvent {
  if (!e.payload || (e.payload.args === undefined && e.payload.result === undefined)) return e;
  const { args: _a, result: _r, ...payload } = e.payload;
  return { ...e, payload };
}

/**
 * An RFC 3339 time the database can compare: years 0001 to 9999 (PostgreSQL has no year 0), no
 * leap second (`23:59:60` names no instant a timestamp holds).
 */
const time = (bound: string) =>
  Type.String({ format: 'date-time', pattern: '^(?!0000-)\\d{4}-\\d\\d-\\d\\d[Tt ](?!\\d\\d:\\d\\d:60)', description: `an RFC 3339 time from year 0001 to 9999 such as \`2026-11-24T22:00:00Z\` (${bound})` });

/** How many events a page holds when the caller names no limit, and the most it may ask for. */
export const AUDIT_PAGE = { default: 100, max: 1000 } as const;

/** The filters and cursor of an audit events read: REST's query string and GraphQL's arguments alike. */
export const AuditEventsQuery = Type.Object(
  {
    from: Type.Optional(time('inclusive')),
    to: Type.Optional(time('exclusive')),
    agent: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    principal: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    effect: Type.Optional(EffectSchema),
    scope: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    category: Type.Optional(AuditCategorySchema),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    outcome: Type.Optional(AuditOutcomeSchema),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'free text anywhere in the event' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_PAGE.max, default: AUDIT_PAGE.default })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type AuditEventsQuery = Static<typeof AuditEventsQuery>;

/**
 * One page of the caller's tenant's audit events, newest first: only events at scopes where one of
 * its reader roles holds, and captured bodies only where a body reader's role holds (for an
 * `analyst`, never). Both `GET /api/v1/audit/events` and GraphQL's `auditEvents` answer through it,
 * after the route's gate let the caller in.
 */
export async function readAuditEvents(audit: AuditReader, c: Credential, q: AuditEventsQuery): Promise<AuditPage> {
  const within = readableScopes(c.grants, READERS);
  const page = await audit.list({
    tenant: c.tenantId,
    ...(within.includes(undefined) ? {} : { within: within.filter((s): s is string => s !== undefined) }),
    limit: q.limit ?? AUDIT_PAGE.default,
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.agent ? { agent: q.agent } : {}),
    ...(q.tool ? { tool: q.tool } : {}),
    ...(q.principal ? { principal: q.principal } : {}),
    ...(q.effect ? { effect: q.effect } : {}),
    ...(q.scope ? { scope: q.scope } : {}),
    ...(q.category ? { category: q.category } : {}),
    ...(q.type ? { type: q.type } : {}),
    ...(q.outcome ? { outcome: q.outcome } : {}),
    // Bodies are searched only for a reader who may see them everywhere in the tenant.
    ...(q.q ? { text: q.q, ...(holdsAt(c.grants, BODY_READERS, undefined) ? {} : { textWithoutBodies: true }) } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  });
  // Bodies are shown only where a body reader's role holds at the event's scope.
  return { ...page, events: page.events.map((e) => (holdsAt(c.grants, BODY_READERS, e.scope) ? e : withoutBodies(e))) };
}
