import { sql, type Kysely } from 'kysely';
import type { LegalHold, PartitionDrop, RetentionOutcome, RetentionStore } from '../audit/ports.js';
import { listPartitions } from './audit-partitions.js';
import type { Schema } from './schema.js';

const ISO = (col: string) => sql.raw(`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** Retention settings, legal holds and removal with stubs, in the database. */
export function createRetentionRepo(db: Kysely<Schema>): RetentionStore {
  return {
    async dropExpiredPartitions(now) {
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
          const { rows } = await sql<{ tenant_id: string; n: string | number; lo: string | number; hi: string | number }>`
            WITH kept AS (
              INSERT INTO audit_tombstones (tenant_id, chain_seq, id, category, time, prev_hash, hash)
              SELECT tenant_id, chain_seq, id, category, time, prev_hash, hash FROM ${table}
              RETURNING tenant_id, chain_seq
            ) SELECT tenant_id, count(*) AS n, min(chain_seq) AS lo, max(chain_seq) AS hi FROM kept GROUP BY tenant_id ORDER BY tenant_id`.execute(trx);
          await sql`ALTER TABLE audit_events DETACH PARTITION ${table}`.execute(trx);
          await sql`DROP TABLE ${table}`.execute(trx);
          return { partition: p.name, from: p.from, to: p.to, tenants: rows.map((r) => ({ tenantId: r.tenant_id, removed: Number(r.n), fromSeq: Number(r.lo), toSeq: Number(r.hi) })) };
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
    async removeExpired(tenantId, category, before): Promise<RetentionOutcome> {
      return db.transaction().execute(async (trx) => {
        // An event is held when an active hold covers its scope (or an ancestor) and its time.
        const held = sql`EXISTS (SELECT 1 FROM audit_legal_holds h WHERE h.tenant_id = e.tenant_id AND h.released_at IS NULL
                           AND (e.scope = h.scope OR e.scope LIKE replace(replace(replace(h.scope, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '/%')
                           AND (h.from_time IS NULL OR e.time >= h.from_time) AND (h.to_time IS NULL OR e.time < h.to_time))`;
        const heldCount = await sql<{ n: string | number }>`
          SELECT count(*) AS n FROM audit_events e WHERE e.tenant_id = ${tenantId} AND e.category = ${category} AND e.time < ${before}::timestamptz AND ${held}`.execute(trx);
        const { rows } = await sql<{ n: string | number; lo: string | number | null; hi: string | number | null }>`
          WITH doomed AS (
            DELETE FROM audit_events e
            WHERE e.tenant_id = ${tenantId} AND e.category = ${category} AND e.time < ${before}::timestamptz AND NOT ${held}
            RETURNING tenant_id, chain_seq, id, category, time, prev_hash, hash
          ), kept AS (
            INSERT INTO audit_tombstones (tenant_id, chain_seq, id, category, time, prev_hash, hash)
            SELECT tenant_id, chain_seq, id, category, time, prev_hash, hash FROM doomed
            RETURNING chain_seq
          )
          SELECT count(*) AS n, min(chain_seq) AS lo, max(chain_seq) AS hi FROM kept`.execute(trx);
        const r = rows[0]!;
        return {
          tenantId,
          category,
          before,
          removed: Number(r.n),
          held: Number(heldCount.rows[0]!.n),
          fromSeq: r.lo === null ? undefined : Number(r.lo),
          toSeq: r.hi === null ? undefined : Number(r.hi),
        };
      });
    },
  };
}
