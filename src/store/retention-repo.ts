import { sql, type Kysely } from 'kysely';
import type { LegalHold, PartitionDrop, RetentionOutcome, RetentionStore } from '../audit/ports.js';
import { EVIDENCE_TYPES, formatRuns } from '../audit/retention-evidence.js';
import { listPartitions } from './audit-partitions.js';
import type { Schema } from './schema.js';

/** A declaration lists its removed sequence numbers as runs up to this many runs; beyond, only the count. */
export const MAX_DECLARED_RUNS = 4096;

// Retention never removes the evidence that justifies its own stubs (removals, periods, holds).
const EVIDENCE = sql.join([...EVIDENCE_TYPES].map((t) => sql`${t}`));

type Run = { lo: string | number; hi: string | number };

/** Counts and lists removed sequence numbers from their runs (sorted). */
function summarize(runs: readonly Run[]): { removed: number; fromSeq: number | undefined; toSeq: number | undefined; seqs: string | undefined } {
  const pairs = runs.map((r) => [Number(r.lo), Number(r.hi)] as const);
  return {
    removed: pairs.reduce((n, [lo, hi]) => n + hi - lo + 1, 0),
    fromSeq: pairs[0]?.[0],
    toSeq: pairs.at(-1)?.[1],
    seqs: pairs.length <= MAX_DECLARED_RUNS ? formatRuns(pairs) : undefined,
  };
}

const ISO = (col: string) => sql.raw(`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** Retention settings, legal holds and removal with stubs, in the database. */
export function createRetentionRepo(db: Kysely<Schema>): RetentionStore {
  return {
    async dropExpiredPartitions(now, newId) {
      const out: PartitionDrop[] = [];
      for (const p of await listPartitions(db)) {
        if (p.to > now) break;
        const table = sql.id(p.name);
        const drop = await db.transaction().execute(async (trx): Promise<PartitionDrop | undefined> => {
          // A hold over any part of the month keeps the whole partition; its rows go the row-level way.
          const held = await sql<{ n: string | number }>`
            SELECT count(*) AS n FROM audit_legal_holds WHERE released_at IS NULL
              AND (from_time IS NULL OR from_time < ${p.to}::timestamptz) AND (to_time IS NULL OR to_time > ${p.from}::timestamptz)`.execute(trx);
          if (Number(held.rows[0]!.n) > 0) return undefined;
          // Every tenant/category present must have a period that has passed for the whole month.
          const unexpired = await sql<{ n: string | number }>`
            SELECT count(*) AS n FROM (SELECT DISTINCT tenant_id, category FROM ${table}) x
            LEFT JOIN audit_retention r ON r.tenant_id = x.tenant_id AND r.category = x.category
            WHERE r.days IS NULL OR ${p.to}::timestamptz > ${now}::timestamptz - make_interval(days => r.days)`.execute(trx);
          if (Number(unexpired.rows[0]!.n) > 0) return undefined;
          const evidence = await sql<{ n: string | number }>`SELECT count(*) AS n FROM ${table} WHERE type IN (${EVIDENCE})`.execute(trx);
          if (Number(evidence.rows[0]!.n) > 0) return undefined;
          const tenants = (await sql<{ tenant_id: string }>`SELECT DISTINCT tenant_id FROM ${table} ORDER BY tenant_id`.execute(trx)).rows.map((r) => ({ tenantId: r.tenant_id, removalId: newId() }));
          if (tenants.length === 0) return undefined;
          const ids = sql.join(tenants.map((t) => sql`(${t.tenantId}, ${t.removalId}::uuid)`));
          const { rows } = await sql<Run & { tenant_id: string }>`
            WITH kept AS (
              INSERT INTO audit_tombstones (tenant_id, chain_seq, id, category, time, scope, prev_hash, hash, removed_by)
              SELECT p.tenant_id, p.chain_seq, p.id, p.category, p.time, p.scope, p.prev_hash, p.hash, ids.removal
              FROM ${table} p JOIN (VALUES ${ids}) AS ids(tenant_id, removal) ON ids.tenant_id = p.tenant_id
              RETURNING tenant_id, chain_seq
            ), islands AS (SELECT tenant_id, chain_seq, chain_seq - row_number() OVER (PARTITION BY tenant_id ORDER BY chain_seq) AS g FROM kept)
            SELECT tenant_id, min(chain_seq) AS lo, max(chain_seq) AS hi FROM islands GROUP BY tenant_id, g ORDER BY tenant_id, lo`.execute(trx);
          await sql`ALTER TABLE audit_events DETACH PARTITION ${table}`.execute(trx);
          await sql`DROP TABLE ${table}`.execute(trx);
          return {
            partition: p.name,
            from: p.from,
            to: p.to,
            tenants: tenants.map((t) => {
              const { removed, fromSeq, toSeq, seqs } = summarize(rows.filter((r) => r.tenant_id === t.tenantId));
              return { tenantId: t.tenantId, removalId: t.removalId, removed, fromSeq: fromSeq!, toSeq: toSeq!, seqs };
            }),
          };
        });
        if (drop) out.push(drop);
      }
      return out;
    },
    async setRetention(tenantId, category, days) {
      if (days === undefined) await sql`DELETE FROM audit_retention WHERE tenant_id = ${tenantId} AND category = ${category}`.execute(db);
      else
        await sql`INSERT INTO audit_retention (tenant_id, category, days) VALUES (${tenantId}, ${category}, ${days})
                  ON CONFLICT (tenant_id, category) DO UPDATE SET days = EXCLUDED.days`.execute(db);
    },
    async retention() {
      const { rows } = await sql<{ tenant_id: string; category: string; days: number }>`SELECT tenant_id, category, days FROM audit_retention ORDER BY tenant_id, category`.execute(db);
      return rows.map((r) => ({ tenantId: r.tenant_id, category: r.category, days: r.days }));
    },
    async addHold(h) {
      await sql`INSERT INTO audit_legal_holds (id, tenant_id, scope, from_time, to_time, reason, created_by)
                VALUES (${h.id}::uuid, ${h.tenantId}, ${h.scope}, ${h.from ?? null}::timestamptz, ${h.to ?? null}::timestamptz, ${h.reason}, ${h.createdBy})`.execute(db);
    },
    async releaseHold(id) {
      const r = await sql`UPDATE audit_legal_holds SET released_at = now() WHERE id = ${id}::uuid AND released_at IS NULL`.execute(db);
      return Number(r.numAffectedRows ?? 0) > 0;
    },
    async holds(tenantId) {
      const { rows } = await sql<{ id: string; tenant_id: string; scope: string; from_time: string | null; to_time: string | null; reason: string; created_by: string; created_at: string; released_at: string | null }>`
        SELECT id::text AS id, tenant_id, scope, ${ISO('from_time')} AS from_time, ${ISO('to_time')} AS to_time, reason, created_by,
               ${ISO('created_at')} AS created_at, ${ISO('released_at')} AS released_at
        FROM audit_legal_holds WHERE ${tenantId === undefined ? sql`true` : sql`tenant_id = ${tenantId}`} ORDER BY created_at`.execute(db);
      return rows.map(
        (r): LegalHold => ({ id: r.id, tenantId: r.tenant_id, scope: r.scope, from: r.from_time ?? undefined, to: r.to_time ?? undefined, reason: r.reason, createdBy: r.created_by, createdAt: r.created_at, releasedAt: r.released_at ?? undefined }),
      );
    },
    async removeExpired(tenantId, category, before, removalId): Promise<RetentionOutcome> {
      return db.transaction().execute(async (trx) => {
        // An event is held when an active hold covers its scope (or an ancestor) and its time.
        const held = sql`EXISTS (SELECT 1 FROM audit_legal_holds h WHERE h.tenant_id = e.tenant_id AND h.released_at IS NULL
                           AND (e.scope = h.scope OR e.scope LIKE replace(replace(replace(h.scope, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '/%')
                           AND (h.from_time IS NULL OR e.time >= h.from_time) AND (h.to_time IS NULL OR e.time < h.to_time))`;
        const heldCount = await sql<{ n: string | number }>`
          SELECT count(*) AS n FROM audit_events e WHERE e.tenant_id = ${tenantId} AND e.category = ${category} AND e.time < ${before}::timestamptz AND ${held}`.execute(trx);
        const { rows } = await sql<Run>`
          WITH doomed AS (
            DELETE FROM audit_events e
            WHERE e.tenant_id = ${tenantId} AND e.category = ${category} AND e.time < ${before}::timestamptz AND NOT ${held}
              AND e.type NOT IN (${EVIDENCE})
            RETURNING tenant_id, chain_seq, id, category, time, scope, prev_hash, hash
          ), kept AS (
            INSERT INTO audit_tombstones (tenant_id, chain_seq, id, category, time, scope, prev_hash, hash, removed_by)
            SELECT tenant_id, chain_seq, id, category, time, scope, prev_hash, hash, ${removalId}::uuid FROM doomed
            RETURNING chain_seq
          ), islands AS (SELECT chain_seq, chain_seq - row_number() OVER (ORDER BY chain_seq) AS g FROM kept)
          SELECT min(chain_seq) AS lo, max(chain_seq) AS hi FROM islands GROUP BY g ORDER BY lo`.execute(trx);
        return { tenantId, category, before, held: Number(heldCount.rows[0]!.n), removalId, ...summarize(rows) };
      });
    },
  };
}
