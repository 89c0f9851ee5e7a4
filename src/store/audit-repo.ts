import { sql, type Kysely } from 'kysely';
import type { ChainHead } from '../audit/chain.js';
import type { ChainReader, ChainStore, CheckpointStore } from '../audit/ports.js';
import type { SignedCheckpoint } from '../audit/signing.js';
import type { AuditPage, AuditQuery, AuditReader } from '../audit/index.js';
import type { AuditEvent } from '../domain/audit-event.js';
import { WardenError } from '../domain/errors.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';
import { ensurePartitions } from './audit-partitions.js';
import type { Schema } from './schema.js';

/** Largest page `list` serves. */
export const AUDIT_PAGE_MAX = 1000;

const GENESIS = `sha256:${'0'.repeat(64)}`;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Everything the audit log offers over one database. */
export type AuditRepo = AuditReader & ChainStore & ChainReader & CheckpointStore & {
  /** Streams every event matching a query, newest first, in keyset batches: constant memory. */
  stream(query: Omit<AuditQuery, 'limit' | 'cursor'>, opts?: { batchSize?: number }): AsyncIterable<AuditEvent>;
  count(query: Omit<AuditQuery, 'limit' | 'cursor'>): Promise<number>;
};

/**
 * The audit log in the database: chained, append-only writes and newest-first keyset pages.
 * @example
 * const audit = createAuditRepo(database.db);
 * const { events, nextCursor } = await audit.list({ scope: 'acme/platform', limit: 50 });
 */
export function createAuditRepo(db: Kysely<Schema>): AuditRepo {
  // Partitions this process has seen exist; creating one is rare (once a month) and serialized.
  const partitions = new Set<string>();
  const repo: AuditRepo = {
    async appendChained(tenantId, build) {
      let created: string[] = [];
      await db.transaction().execute(async (trx) => {
        // One round trip creates the head if missing and takes its row lock (DO UPDATE locks the row).
        const { rows } = await sql<{ seq: string | number; hash: string; logged_at: string | null }>`
          INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (${tenantId}, 0, ${GENESIS})
          ON CONFLICT (tenant_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id
          RETURNING seq, hash, to_char(logged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS logged_at`.execute(trx);
        const row = rows[0]!;
        const { events, head } = build({ seq: Number(row.seq), hash: row.hash, loggedAt: row.logged_at ?? undefined });
        if (events.length === 0) return;
        created = await ensurePartitions(trx, events.map((e) => e.time), partitions);
        // One statement, one parameter: no limit on the batch from the 65535 bind parameters a
        // multi-row VALUES list would hit. The flat columns are copies kept for indexes.
        await sql`
          INSERT INTO audit_events
            (tenant_id, chain_seq, id, time, logged_at, category, type, scope, outcome, action_kind, agent_id,
             principal_id, server, tool, effect, prev_hash, hash, event)
          SELECT ${tenantId}, (e->'integrity'->>'seq')::bigint, (e->>'id')::uuid, (e->>'time')::timestamptz,
                 (e->>'loggedAt')::timestamptz, e->>'category', e->>'type', e->>'scope', e->>'outcome',
                 e->'action'->>'kind',
                 coalesce(e->'agent'->>'id', CASE WHEN e->'actor'->>'type' = 'agent' THEN e->'actor'->>'id' END),
                 e->'onBehalfOf'->>'id', e->'target'->>'server',
                 CASE WHEN e->'target'->>'kind' = 'tool' THEN e->'target'->>'name' END,
                 e->'decision'->>'effect', e->'integrity'->>'prevHash', e->'integrity'->>'hash', e
          FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS batch(e, n)
          ORDER BY n
        `.execute(trx);
        await sql`UPDATE audit_chain_heads SET seq = ${head.seq}, hash = ${head.hash}, logged_at = ${head.loggedAt ?? null}::timestamptz
                  WHERE tenant_id = ${tenantId}`.execute(trx);
      });
      for (const p of created) partitions.add(p);
    },

    async head(tenantId): Promise<ChainHead> {
      const { rows } = await sql<{ seq: string | number; hash: string; logged_at: string | null }>`
        SELECT seq, hash, to_char(logged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS logged_at
        FROM audit_chain_heads WHERE tenant_id = ${tenantId}`.execute(db);
      const r = rows[0];
      return r ? { seq: Number(r.seq), hash: r.hash, loggedAt: r.logged_at ?? undefined } : { seq: 0, hash: GENESIS, loggedAt: undefined };
    },

    async *streamChain(tenantId, opts = {}) {
      const size = opts.batchSize ?? 2000;
      let after = (opts.fromSeq ?? 1) - 1;
      const to = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
      for (;;) {
        // Stored events and the stubs retention left, merged by sequence number.
        const { rows } = await sql<{ chain_seq: string | number; event: AuditEvent | null; id: string; prev_hash: string; hash: string }>`
          SELECT chain_seq, event, id::text AS id, prev_hash, hash FROM (
            SELECT chain_seq, event, id, prev_hash, hash FROM audit_events
            WHERE tenant_id = ${tenantId} AND chain_seq > ${after} AND chain_seq <= ${to}
            UNION ALL
            SELECT chain_seq, NULL, id, prev_hash, hash FROM audit_tombstones
            WHERE tenant_id = ${tenantId} AND chain_seq > ${after} AND chain_seq <= ${to}
          ) AS chain ORDER BY chain_seq LIMIT ${size}`.execute(db);
        for (const r of rows) {
          yield r.event ?? { stub: true as const, id: r.id, tenantId, integrity: { seq: Number(r.chain_seq), prevHash: r.prev_hash, hash: r.hash } };
        }
        if (rows.length < size) return;
        after = Number(rows[rows.length - 1]!.chain_seq);
      }
    },

    async tenants() {
      const { rows } = await sql<{ tenant_id: string }>`SELECT tenant_id FROM audit_chain_heads ORDER BY tenant_id`.execute(db);
      return rows.map((r) => r.tenant_id);
    },

    async saveCheckpoint(cp: SignedCheckpoint) {
      await sql`INSERT INTO audit_checkpoints (tenant_id, from_seq, to_seq, root, last_hash, created_at, key_id, public_key, signature)
                VALUES (${cp.tenantId}, ${cp.fromSeq}, ${cp.toSeq}, ${cp.root}, ${cp.lastHash}, ${cp.createdAt}::timestamptz, ${cp.keyId}, ${cp.publicKey}, ${cp.signature})`.execute(db);
    },

    async listCheckpoints(tenantId) {
      const { rows } = await sql<{ from_seq: string | number; to_seq: string | number; root: string; last_hash: string; created_at: string; key_id: string; public_key: string; signature: string }>`
        SELECT from_seq, to_seq, root, last_hash, key_id, public_key, signature,
               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
        FROM audit_checkpoints WHERE tenant_id = ${tenantId} ORDER BY from_seq`.execute(db);
      return rows.map((r) => ({
        tenantId,
        fromSeq: Number(r.from_seq),
        toSeq: Number(r.to_seq),
        root: r.root,
        lastHash: r.last_hash,
        createdAt: r.created_at,
        keyId: r.key_id,
        publicKey: r.public_key,
        signature: r.signature,
      }));
    },

    async list(query: AuditQuery): Promise<AuditPage> {
      checkQuery(query);
      const after = query.cursor === undefined ? undefined : decodeAuditCursor(query.cursor);
      const rows = await filtered(db, query, after, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        events: page.map((row) => row.event as AuditEvent),
        nextCursor: rows.length > query.limit && last ? encodeAuditCursor({ time: last.cursor_time, id: last.id }) : null,
      };
    },

    async *stream(query, opts = {}) {
      checkQuery({ ...query, limit: 1 });
      const size = opts.batchSize ?? 1000;
      let after: { time: string; id: string } | undefined;
      for (;;) {
        const rows = await filtered(db, query, after, size);
        for (const r of rows) yield r.event as AuditEvent;
        if (rows.length < size) return;
        const last = rows[rows.length - 1]!;
        after = { time: last.cursor_time, id: last.id };
      }
    },

    async count(query) {
      checkQuery({ ...query, limit: 1 });
      let select = db.selectFrom('audit_events').select(sql<string>`count(*)`.as('n'));
      select = applyFilters(select, query);
      const row = await select.executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
  return repo;
}

// Kysely's builder types are deep; the filters only add WHERE clauses, so a structural type is enough.
interface Filterable<T> {
  where(expr: ReturnType<typeof sql<boolean>>): T;
  where(col: 'agent_id' | 'tool' | 'effect' | 'principal_id' | 'category' | 'type' | 'outcome', op: '=', value: string): T;
}

function applyFilters<T extends Filterable<T>>(select: T, query: Omit<AuditQuery, 'limit' | 'cursor'>): T {
  let s = select;
  if (query.from !== undefined) s = s.where(sql<boolean>`time >= ${query.from}::timestamptz`);
  if (query.to !== undefined) s = s.where(sql<boolean>`time < ${query.to}::timestamptz`);
  if (query.agent !== undefined) s = s.where('agent_id', '=', query.agent);
  if (query.principal !== undefined) s = s.where('principal_id', '=', query.principal);
  if (query.tool !== undefined) s = s.where('tool', '=', query.tool);
  if (query.effect !== undefined) s = s.where('effect', '=', query.effect);
  if (query.category !== undefined) s = s.where('category', '=', query.category);
  if (query.type !== undefined) s = s.where('type', '=', query.type);
  if (query.outcome !== undefined) s = s.where('outcome', '=', query.outcome);
  if (query.tenant !== undefined) s = s.where(sql<boolean>`tenant_id = ${query.tenant}`);
  if (query.scope !== undefined) {
    const below = `${escapeLike(query.scope)}/%`;
    s = s.where(sql<boolean>`(scope = ${query.scope} OR scope LIKE ${below} ESCAPE '\\')`);
  }
  if (query.text !== undefined) {
    // Free text over the whole event; other filters narrow the rows first.
    s = s.where(sql<boolean>`event::text ILIKE ${`%${escapeLike(query.text)}%`} ESCAPE '\\'`);
  }
  return s;
}

async function filtered(db: Kysely<Schema>, query: Omit<AuditQuery, 'limit' | 'cursor'>, after: { time: string; id: string } | undefined, limit: number) {
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
    .limit(limit);
  select = applyFilters(select as never, query) as typeof select;
  if (after) select = select.where(sql<boolean>`(time, id) < (${after.time}::timestamptz, ${after.id}::uuid)`);
  return select.execute();
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
