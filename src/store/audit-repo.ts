import { sql, type Kysely } from 'kysely';
import type { AuditPage, AuditQuery, AuditReader, AuditSink } from '../checkpoint/ports.js';
import type { AuditEvent } from '../domain/audit-event.js';
import { WardenError } from '../domain/errors.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';
import type { Schema } from './schema.js';

/** Largest page `list` serves. */
export const AUDIT_PAGE_MAX = 1000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * The audit log in the database: append-only writes and newest-first keyset pages.
 * @example
 * const audit = createAuditRepo(database.db);
 * await audit.append([event]);
 * const { events, nextCursor } = await audit.list({ scope: 'acme/platform', limit: 50 });
 */
export function createAuditRepo(db: Kysely<Schema>): AuditSink & AuditReader {
  return {
    async append(events: readonly AuditEvent[]): Promise<void> {
      if (events.length === 0) return;
      // One statement, one parameter: atomic without an explicit transaction, and no limit on the
      // batch from the 65535 bind parameters a multi-row VALUES list would hit.
      // ON CONFLICT: `id` is the dedupe key, so a writer retrying after a lost reply is harmless.
      await sql`
        INSERT INTO audit_events
          (id, time, category, type, scope, action_kind, agent_id, principal_id, server, tool, effect, event)
        SELECT (e->>'id')::uuid, (e->>'time')::timestamptz, e->>'category', e->>'type', e->>'scope',
               e->>'actionKind', e->>'agentId', e->>'principalId', e->>'server', e->>'tool', e->>'effect', e
        FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS batch(e, n)
        ORDER BY n
        ON CONFLICT (id) DO NOTHING
      `.execute(db);
    },

    async list(query: AuditQuery): Promise<AuditPage> {
      checkQuery(query);
      const after = query.cursor === undefined ? undefined : decodeAuditCursor(query.cursor);
      let select = db
        .selectFrom('audit_events')
        .select([
          'id',
          'event',
          // Text at full precision in UTC: a JS Date would drop microseconds and break the keyset.
          sql<string>`to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_time'),
        ])
        .orderBy('time', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit + 1);
      if (query.from !== undefined) select = select.where(sql<boolean>`time >= ${query.from}::timestamptz`);
      if (query.to !== undefined) select = select.where(sql<boolean>`time < ${query.to}::timestamptz`);
      if (query.agent !== undefined) select = select.where('agent_id', '=', query.agent);
      if (query.tool !== undefined) select = select.where('tool', '=', query.tool);
      if (query.effect !== undefined) select = select.where('effect', '=', query.effect);
      if (query.scope !== undefined) {
        const below = `${escapeLike(query.scope)}/%`;
        select = select.where(sql<boolean>`(scope = ${query.scope} OR scope LIKE ${below} ESCAPE '\\')`);
      }
      if (after) select = select.where(sql<boolean>`(time, id) < (${after.time}::timestamptz, ${after.id}::uuid)`);

      const rows = await select.execute();
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        events: page.map((row) => row.event as AuditEvent),
        nextCursor: rows.length > query.limit && last ? encodeAuditCursor({ time: last.cursor_time, id: last.id }) : null,
      };
    },
  };
}

function checkQuery(query: AuditQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > AUDIT_PAGE_MAX) {
    throw new WardenError('request.invalid', `\`limit\` must be a whole number from 1 to ${AUDIT_PAGE_MAX}, got \`${query.limit}\``);
  }
  for (const key of ['from', 'to'] as const) {
    const value = query[key];
    if (value !== undefined && (!RFC3339.test(value) || Number.isNaN(Date.parse(value)))) {
      throw new WardenError('request.invalid', `\`${key}\` must be an RFC 3339 date-time, got \`${value}\``, {
        help: 'for example `2026-11-24T22:00:00Z`',
      });
    }
  }
}

/** Escapes LIKE's wildcards so a scope matches itself literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
