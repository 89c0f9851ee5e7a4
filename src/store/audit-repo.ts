import { sql, type Kysely } from 'kysely';
import type { ChainHead } from '../audit/chain.js';
import type { ChainAuditor, ChainReader, ChainStore, CheckpointStore } from '../audit/ports.js';
import { EVIDENCE_TYPES } from '../audit/retention-evidence.js';
import type { SignedCheckpoint } from '../audit/signing.js';
import type { ChainStub } from '../audit/verify.js';
import type { AuditPage, AuditQuery, AuditReader } from '../audit/index.js';
import type { AuditEvent } from '../domain/audit-event.js';
import { WardenError } from '../domain/errors.js';
import { parseInstant } from '../domain/instant.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';
import { ensurePartitions } from './audit-partitions.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

/** Largest page `list` serves. */
export const AUDIT_PAGE_MAX = 1000;

const GENESIS = `sha256:${'0'.repeat(64)}`;

/**
 * How each indexed column derives from the event body `e`: the writer inserts these, and
 * `columnMismatches` compares every stored row with them (`tenant_id` is the chain's tenant,
 * which must be the body's). A new column belongs here, or `test/audit-tamper.test.ts` fails.
 */
const DERIVED: readonly { column: string; expr: string; type: 'text' | 'bigint' | 'uuid' | 'timestamptz' }[] = [
  { column: 'chain_seq', expr: `e->'integrity'->>'seq'`, type: 'bigint' },
  { column: 'id', expr: `e->>'id'`, type: 'uuid' },
  { column: 'time', expr: `e->>'time'`, type: 'timestamptz' },
  { column: 'logged_at', expr: `e->>'loggedAt'`, type: 'timestamptz' },
  { column: 'category', expr: `e->>'category'`, type: 'text' },
  { column: 'type', expr: `e->>'type'`, type: 'text' },
  { column: 'scope', expr: `e->>'scope'`, type: 'text' },
  { column: 'outcome', expr: `e->>'outcome'`, type: 'text' },
  { column: 'action_kind', expr: `e->'action'->>'kind'`, type: 'text' },
  { column: 'agent_id', expr: `coalesce(e->'agent'->>'id', CASE WHEN e->'actor'->>'type' = 'agent' THEN e->'actor'->>'id' END)`, type: 'text' },
  { column: 'principal_id', expr: `e->'onBehalfOf'->>'id'`, type: 'text' },
  { column: 'server', expr: `e->'target'->>'server'`, type: 'text' },
  { column: 'tool', expr: `CASE WHEN e->'target'->>'kind' = 'tool' THEN e->'target'->>'name' END`, type: 'text' },
  { column: 'effect', expr: `e->'decision'->>'effect'`, type: 'text' },
  { column: 'prev_hash', expr: `e->'integrity'->>'prevHash'`, type: 'text' },
  { column: 'hash', expr: `e->'integrity'->>'hash'`, type: 'text' },
];

const INSERT_COLUMNS = sql.raw(DERIVED.map((d) => d.column).join(', '));
const INSERT_VALUES = sql.raw(DERIVED.map((d) => (d.type === 'text' ? d.expr : `(${d.expr})::${d.type}`)).join(', '));

// The same derivation, total: a body edited into nonsense compares unequal instead of failing the query.
const SAFE: Record<(typeof DERIVED)[number]['type'], (expr: string) => string> = {
  text: (x) => x,
  bigint: (x) => `CASE WHEN ${x} ~ '^-?[0-9]{1,18}$' THEN (${x})::bigint END`,
  uuid: (x) => `CASE WHEN ${x} ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN (${x})::uuid END`,
  timestamptz: (x) => `warden_try_timestamptz(${x})`,
};
const MISMATCHES = [{ column: 'tenant_id', test: `tenant_id IS DISTINCT FROM e->>'tenantId'` }, ...DERIVED.map((d) => ({ column: d.column, test: `${d.column} IS DISTINCT FROM ${SAFE[d.type](d.expr)}` }))];
const MISMATCH_LIST = sql.raw(`array_to_string(ARRAY[${MISMATCHES.map((m) => `CASE WHEN ${m.test} THEN '${m.column}' END`).join(', ')}], ',')`);
const ANY_MISMATCH = sql.raw(MISMATCHES.map((m) => `(${m.test})`).join(' OR '));

/** Everything the audit log offers over one database. */
export type AuditRepo = AuditReader & ChainStore & ChainReader & ChainAuditor & CheckpointStore & {
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
          INSERT INTO audit_events (tenant_id, ${INSERT_COLUMNS}, event)
          SELECT ${tenantId}, ${INSERT_VALUES}, e
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
        type Row = { chain_seq: string | number; event: AuditEvent | null; id: string; prev_hash: string; hash: string; removed_by: string | null; category: string | null; time: string | null; scope: string | null };
        const { rows } = await sql<Row>`
          SELECT chain_seq, event, id::text AS id, prev_hash, hash, removed_by, category, time, scope FROM (
            SELECT chain_seq, event, id, prev_hash, hash, NULL AS removed_by, NULL AS category, NULL AS time, NULL AS scope FROM audit_events
            WHERE tenant_id = ${tenantId} AND chain_seq > ${after} AND chain_seq <= ${to}
            UNION ALL
            SELECT chain_seq, NULL, id, prev_hash, hash, removed_by::text, category, ${sql.raw(`to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)}, scope FROM audit_tombstones
            WHERE tenant_id = ${tenantId} AND chain_seq > ${after} AND chain_seq <= ${to}
          ) AS chain ORDER BY chain_seq LIMIT ${size}`.execute(db);
        for (const r of rows) {
          if (r.event) {
            yield r.event;
            continue;
          }
          const stub: ChainStub = { stub: true, id: r.id, tenantId, integrity: { seq: Number(r.chain_seq), prevHash: r.prev_hash, hash: r.hash } };
          if (r.removed_by !== null) stub.removedBy = r.removed_by;
          if (r.category !== null) stub.category = r.category;
          if (r.time !== null) stub.time = r.time;
          if (r.scope !== null) stub.scope = r.scope;
          yield stub;
        }
        if (rows.length < size) return;
        after = Number(rows[rows.length - 1]!.chain_seq);
      }
    },

    async evidence(tenantId) {
      const types = sql.join([...EVIDENCE_TYPES].map((t) => sql`${t}`));
      const { rows } = await sql<{ event: AuditEvent }>`
        SELECT event FROM audit_events WHERE tenant_id = ${tenantId} AND category = 'audit_system' AND type IN (${types}) ORDER BY chain_seq`.execute(db);
      return rows.map((r) => r.event);
    },

    async columnMismatches(tenantId, limit) {
      // Named by the body's sequence number: the chain_seq column may be the one that was edited.
      const { rows } = await sql<{ seq: string | null; chain_seq: string | number; bad: string }>`
        SELECT chain_seq, e->'integrity'->>'seq' AS seq, ${MISMATCH_LIST} AS bad FROM (SELECT *, event AS e FROM audit_events WHERE tenant_id = ${tenantId}) AS r
        WHERE ${ANY_MISMATCH} ORDER BY chain_seq LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({ seq: Number(r.seq !== null && /^\d+$/.test(r.seq) ? r.seq : r.chain_seq), columns: r.bad.split(',') }));
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
      const rows = await underTenant(db, query.tenant, (q) => filtered(q, query, after, query.limit + 1));
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
        const rows = await underTenant(db, query.tenant, (q) => filtered(q, query, after, size));
        for (const r of rows) yield r.event as AuditEvent;
        if (rows.length < size) return;
        const last = rows[rows.length - 1]!;
        after = { time: last.cursor_time, id: last.id };
      }
    },

    async count(query) {
      checkQuery({ ...query, limit: 1 });
      const row = await underTenant(db, query.tenant, (q) => applyFilters(q.selectFrom('audit_events').select(sql<string>`count(*)`.as('n')), query).executeTakeFirstOrThrow());
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
  if (query.scope !== undefined) s = s.where(subtree(query.scope));
  if (query.within !== undefined) {
    s = query.within.length === 0 ? s.where(sql<boolean>`false`) : s.where(sql<boolean>`(${sql.join(query.within.map(subtree), sql` OR `)})`);
  }
  if (query.text !== undefined) {
    // Free text over the whole event; other filters narrow the rows first.
    const pattern = `%${escapeLike(query.text)}%`;
    s = query.textWithoutBodies
      ? s.where(sql<boolean>`(event #- '{payload,args}' #- '{payload,result}')::text ILIKE ${pattern} ESCAPE '\\'`)
      : s.where(sql<boolean>`event::text ILIKE ${pattern} ESCAPE '\\'`);
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
    if (value !== undefined && parseInstant(value) === undefined) {
      throw new WardenError('request.invalid', `\`${key}\` must be an RFC 3339 date-time, got \`${value}\``, {
        help: 'for example `2026-11-24T22:00:00Z`',
      });
    }
  }
}

/** Runs a read for one tenant under row-level security (src/store/tenant-scope.ts); a read across tenants as is. */
function underTenant<T>(db: Kysely<Schema>, tenant: string | undefined, fn: (q: Kysely<Schema>) => Promise<T>): Promise<T> {
  return tenant === undefined ? fn(db) : withTenant(db, tenant, fn);
}

/** A scope and everything below it. */
function subtree(scope: string) {
  const below = `${escapeLike(scope)}/%`;
  return sql<boolean>`(scope = ${scope} OR scope LIKE ${below} ESCAPE '\\')`;
}

/** Escapes LIKE's wildcards so a scope matches itself literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
