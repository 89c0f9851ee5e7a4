import { sql, type Kysely } from 'kysely';
import type { DeadLetter, DeliveryState, DeliveryStore } from '../audit/ports.js';
import { withTenant } from './tenant-scope.js';
import type { Schema } from './schema.js';

interface Row {
  destination: string;
  tenant_id: string;
  cursor_seq: string | number;
  attempts: number;
  next_attempt: string | null;
  last_error: string | null;
  last_success: string | null;
  delivered: string | number;
  dead: string | number;
}

const ISO = (col: string) => sql.raw(`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

function toState(r: Row): DeliveryState {
  return {
    destination: r.destination,
    tenantId: r.tenant_id,
    cursorSeq: Number(r.cursor_seq),
    attempts: r.attempts,
    nextAttempt: r.next_attempt ?? undefined,
    lastError: r.last_error ?? undefined,
    lastSuccess: r.last_success ?? undefined,
    delivered: Number(r.delivered),
    dead: Number(r.dead),
  };
}

const COLUMNS = sql`destination, tenant_id, cursor_seq, attempts, ${ISO('next_attempt')} AS next_attempt, last_error, ${ISO('last_success')} AS last_success, delivered, dead`;

/** Delivery cursors, leases and dead letters in the database. */
export function createDeliveryRepo(db: Kysely<Schema>): DeliveryStore {
  return {
    async claim(destination, tenantId, owner, leaseMs) {
      await sql`INSERT INTO audit_delivery (destination, tenant_id) VALUES (${destination}, ${tenantId}) ON CONFLICT DO NOTHING`.execute(db);
      const { rows } = await sql<Row>`
        UPDATE audit_delivery SET leased_by = ${owner}, lease_until = now() + ${`${leaseMs} milliseconds`}::interval
        WHERE destination = ${destination} AND tenant_id = ${tenantId}
          AND (leased_by IS NULL OR leased_by = ${owner} OR lease_until < now())
        RETURNING ${COLUMNS}`.execute(db);
      return rows[0] ? toState(rows[0]) : undefined;
    },
    async advance(destination, tenantId, owner, toSeq, delivered) {
      await sql`UPDATE audit_delivery SET cursor_seq = GREATEST(cursor_seq, ${toSeq}), attempts = 0, next_attempt = NULL, last_error = NULL,
                  last_success = CASE WHEN ${delivered} > 0 THEN now() ELSE last_success END, delivered = delivered + ${delivered}
                WHERE destination = ${destination} AND tenant_id = ${tenantId} AND leased_by = ${owner}`.execute(db);
    },
    async fail(destination, tenantId, owner, error, attempts, nextAttempt) {
      await sql`UPDATE audit_delivery SET attempts = ${attempts}, last_error = ${error}, next_attempt = ${nextAttempt.toISOString()}::timestamptz
                WHERE destination = ${destination} AND tenant_id = ${tenantId} AND leased_by = ${owner}`.execute(db);
    },
    async deadLetter(destination, tenantId, owner, seq, eventId, error, attempts) {
      await db.transaction().execute(async (trx) => {
        await sql`INSERT INTO audit_dead_letters (destination, tenant_id, seq, event_id, error, attempts)
                  VALUES (${destination}, ${tenantId}, ${seq}, ${eventId}::uuid, ${error}, ${attempts}) ON CONFLICT DO NOTHING`.execute(trx);
        await sql`UPDATE audit_delivery SET cursor_seq = GREATEST(cursor_seq, ${seq}), attempts = 0, next_attempt = NULL, last_error = ${error}, dead = dead + 1
                  WHERE destination = ${destination} AND tenant_id = ${tenantId} AND leased_by = ${owner}`.execute(trx);
      });
    },
    async release(destination, tenantId, owner) {
      await sql`UPDATE audit_delivery SET leased_by = NULL, lease_until = NULL WHERE destination = ${destination} AND tenant_id = ${tenantId} AND leased_by = ${owner}`.execute(db);
    },
    async status(tenantId) {
      if (tenantId === undefined) {
        const { rows } = await sql<Row>`SELECT ${COLUMNS} FROM audit_delivery ORDER BY destination, tenant_id`.execute(db);
        return rows.map(toState);
      }
      const { rows } = await withTenant(db, tenantId, (trx) => sql<Row>`SELECT ${COLUMNS} FROM audit_delivery WHERE tenant_id = ${tenantId} ORDER BY destination`.execute(trx));
      return rows.map(toState);
    },
    async replay(destination, tenantId, fromSeq) {
      await sql`INSERT INTO audit_delivery (destination, tenant_id) VALUES (${destination}, ${tenantId}) ON CONFLICT DO NOTHING`.execute(db);
      await sql`UPDATE audit_delivery SET cursor_seq = ${Math.max(0, fromSeq - 1)}, attempts = 0, next_attempt = NULL, last_error = NULL
                WHERE destination = ${destination} AND tenant_id = ${tenantId}`.execute(db);
    },
    async deadLetters(destination, limit, tenantId) {
      type R = { destination: string; tenant_id: string; seq: string | number; event_id: string; error: string; attempts: number; at: string };
      const { rows } =
        tenantId === undefined
          ? await sql<R>`
        SELECT destination, tenant_id, seq, event_id::text AS event_id, error, attempts, ${ISO('at')} AS at
        FROM audit_dead_letters WHERE destination = ${destination} ORDER BY tenant_id, seq LIMIT ${limit}`.execute(db)
          : await withTenant(db, tenantId, (trx) =>
              sql<R>`
        SELECT destination, tenant_id, seq, event_id::text AS event_id, error, attempts, ${ISO('at')} AS at
        FROM audit_dead_letters WHERE destination = ${destination} AND tenant_id = ${tenantId} ORDER BY seq LIMIT ${limit}`.execute(trx),
            );
      return rows.map((r): DeadLetter => ({ destination: r.destination, tenantId: r.tenant_id, seq: Number(r.seq), eventId: r.event_id, error: r.error, attempts: r.attempts, at: r.at }));
    },
  };
}
