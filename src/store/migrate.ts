import { sql, type Kysely } from 'kysely';
import { WardenError } from '../domain/errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import type { Schema } from './schema.js';

// Advisory lock key ("WARDEN" in ASCII). Postgres scopes advisory locks to one database.
const MIGRATION_LOCK = 95_938_064_696_654;

/** What one run of `migrate` did. */
export interface MigrateResult {
  /** Names of the migrations this run applied, in order; empty when the schema was current. */
  applied: string[];
}

/**
 * Applies the pending migrations in order, each in its own transaction, and records them in
 * `warden_migrations`. Safe when several processes start at once on one PostgreSQL database:
 * they queue on an advisory lock and each migration applies exactly once.
 * @param migrations the list to apply. @default MIGRATIONS
 * @throws WardenError `store.migration_failed`; the failing migration is rolled back, earlier ones stay.
 */
export async function migrate(db: Kysely<Schema>, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  const done = await db.transaction().execute(async (trx) => {
    await lock(trx);
    // CREATE TABLE IF NOT EXISTS races with itself across sessions; the lock above serialises it.
    await sql`CREATE TABLE IF NOT EXISTS warden_migrations (
      name       text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`.execute(trx);
    const rows = await trx.selectFrom('warden_migrations').select('name').execute();
    return new Set(rows.map((r) => r.name));
  });

  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.name)) continue;
    if (await apply(db, migration)) applied.push(migration.name);
  }
  return { applied };
}

/** Applies one migration unless another process did since we looked; true when this call applied it. */
async function apply(db: Kysely<Schema>, migration: Migration): Promise<boolean> {
  try {
    return await db.transaction().execute(async (trx) => {
      await lock(trx);
      const seen = await trx.selectFrom('warden_migrations').select('name').where('name', '=', migration.name).executeTakeFirst();
      if (seen) return false;
      await sql.raw(migration.sql).execute(trx);
      await trx.insertInto('warden_migrations').values({ name: migration.name }).execute();
      return true;
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ').trim() : String(err);
    throw new WardenError('store.migration_failed', `migration \`${migration.name}\` failed: ${reason}`, {
      help: 'the migration was rolled back; fix the cause (see the database log) and start warden again',
      cause: err,
    });
  }
}

async function lock(trx: Kysely<Schema>): Promise<void> {
  // Released at commit or rollback, so a crashed migrator never leaves it held.
  await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
}
