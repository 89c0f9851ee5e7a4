import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schema } from './schema.js';

/** The month a time falls in, as the partition's name suffix and bounds (UTC). */
export function monthOf(time: string): { name: string; from: string; to: string } {
  const d = new Date(time);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const from = new Date(Date.UTC(y, m, 1)).toISOString();
  const to = new Date(Date.UTC(y, m + 1, 1)).toISOString();
  return { name: `audit_events_p${y}${String(m + 1).padStart(2, '0')}`, from, to };
}

/** The months of `times` whose partitions are not in `known`: usually none, found in one pass. */
export function missingMonths(times: readonly string[], known: ReadonlySet<string>): ReturnType<typeof monthOf>[] {
  const months = new Map<string, ReturnType<typeof monthOf>>();
  // A batch's times share a month or two: a UTC time's month is mostly its first seven characters
  // (checked once per prefix: 24:00 on a month's last day is the next month).
  const prefixes = new Set<string>();
  for (const t of times) {
    const prefix = t.endsWith('Z') && t.charCodeAt(4) === 45 && t.charCodeAt(7) === 45 ? t.slice(0, 7) : undefined;
    if (prefix !== undefined && prefixes.has(prefix)) continue;
    const m = monthOf(t);
    if (prefix !== undefined && m.name === `audit_events_p${prefix.slice(0, 4)}${prefix.slice(5, 7)}`) prefixes.add(prefix);
    if (!known.has(m.name)) months.set(m.name, m);
  }
  return [...months.values()];
}

// Any fixed number: serializes partition creation among writers (and replicas) on one database.
const PARTITION_LOCK = 870_2026;

/**
 * Makes sure a monthly partition exists for each of the given times, inside the caller's
 * transaction (so it commits or rolls back with the insert). Rows that landed in the default
 * partition for that month (none, normally) are moved in before the partition attaches.
 * Returns the partitions it created; the caller marks them known once the transaction commits.
 */
export async function ensurePartitions(trx: Transaction<Schema>, times: readonly string[], known: ReadonlySet<string>): Promise<string[]> {
  const months = missingMonths(times, known);
  const seen: string[] = [];
  for (const m of months) {
    await sql`SELECT pg_advisory_xact_lock(${PARTITION_LOCK})`.execute(trx);
    const { rows } = await sql<{ t: string | null }>`SELECT to_regclass(${m.name})::text AS t`.execute(trx);
    if (!rows[0]?.t) {
      const table = sql.id(m.name);
      // Constraints too: ATTACH requires the parent's CHECK constraints on the new partition.
      await sql`CREATE TABLE ${table} (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`.execute(trx);
      await sql`WITH moved AS (DELETE FROM audit_events_default WHERE time >= ${m.from}::timestamptz AND time < ${m.to}::timestamptz RETURNING *)
                INSERT INTO ${table} SELECT * FROM moved`.execute(trx);
      await sql`ALTER TABLE audit_events ATTACH PARTITION ${table} FOR VALUES FROM (${sql.lit(m.from)}) TO (${sql.lit(m.to)})`.execute(trx);
    }
    seen.push(m.name);
  }
  return seen;
}

/** A monthly partition and its bounds. */
export interface PartitionInfo {
  name: string;
  from: string;
  to: string;
}

/** The monthly partitions, oldest first. */
export async function listPartitions(db: Kysely<Schema>): Promise<PartitionInfo[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = 'audit_events' AND c.relname ~ '^audit_events_p[0-9]{6}$' ORDER BY c.relname`.execute(db);
  return rows.map((r) => {
    const y = Number(r.name.slice(14, 18));
    const m = Number(r.name.slice(18, 20)) - 1;
    return { name: r.name, from: new Date(Date.UTC(y, m, 1)).toISOString(), to: new Date(Date.UTC(y, m + 1, 1)).toISOString() };
  });
}
