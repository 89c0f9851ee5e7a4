import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ApprovalLinkStore } from '../approvals/links.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

const isUniqueViolation = (err: unknown) => (err as { code?: string } | undefined)?.code === '23505';

/** Link keys and used links (migration 012); every call runs in `withTenant` (row-level security). */
export function createApprovalLinkRepo(db: Kysely<Schema>): ApprovalLinkStore {
  return {
    key: (tenantId) =>
      withTenant(db, tenantId, async (trx) => {
        // Two replicas making the first key at once: one insert wins, both read the winner.
        await sql`INSERT INTO approval_link_keys (tenant_id, key, created_at) VALUES (${tenantId}, ${randomBytes(32).toString('base64')}, ${new Date().toISOString()})
          ON CONFLICT (tenant_id) DO NOTHING`.execute(trx);
        const { rows } = await sql<{ key: string }>`SELECT key FROM approval_link_keys WHERE tenant_id = ${tenantId}`.execute(trx);
        return Buffer.from(rows[0]!.key, 'base64');
      }),

    async claim(tenantId, use) {
      try {
        await withTenant(db, tenantId, (trx) =>
          sql`INSERT INTO approval_link_uses (tenant_id, sig_hash, request_id, vote, used_by, used_at)
            VALUES (${tenantId}, ${use.sigHash}, ${use.requestId}, ${use.vote}, ${use.usedBy}, ${use.at})`.execute(trx),
        );
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },

    release: (tenantId, sigHash) =>
      withTenant(db, tenantId, async (trx) => {
        await sql`DELETE FROM approval_link_uses WHERE tenant_id = ${tenantId} AND sig_hash = ${sigHash}`.execute(trx);
      }),
  };
}
