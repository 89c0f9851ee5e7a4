import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schema } from './schema.js';

/**
 * Runs `fn` in a transaction that sees one tenant's rows only: `warden.tenant` names the tenant and
 * the role switches to `warden_tenant`, which row-level security confines to it (migration 007).
 * Repositories filter by tenant as well; this is the second wall, so a query that forgets its
 * filter still reads nothing of another tenant. Both settings end with the transaction.
 */
export async function withTenant<T>(db: Kysely<Schema>, tenantId: string, fn: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('warden.tenant', ${tenantId}, true), set_config('role', 'warden_tenant', true)`.execute(trx);
    return fn(trx);
  });
}
