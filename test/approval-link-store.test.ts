import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalDigest, type ApprovalSubject } from '../src/domain/index.js';
import { createApprovalLinkRepo, createApprovalRepo, withTenant } from '../src/store/index.js';
import { dialects, type FreshDatabase } from './support/databases.js';

// The link store of migration 012 on both databases: one key per tenant that every replica reads
// alike, a link claimed once (and given back on a refused answer), and row-level security.
const all = await dialects();

const subject = (tenantId: string): ApprovalSubject => ({ tenantId, kind: 'tool.call', scope: 'acme', tool: { server: 's', name: 't' }, args: { a: 1 }, policySetVersion: 'v1' });
const id = `apr_${'a'.repeat(32)}`;

for (const dialect of all) {
  describe(`approval link store on ${dialect.name}`, () => {
    let fresh: FreshDatabase;
    beforeAll(async () => {
      fresh = await dialect.fresh();
      const db = fresh.database.db;
      await sql`INSERT INTO tenants (id, name, status, created_at) VALUES ('t-2', 'T2', 'active', now())`.execute(db);
      for (const tenantId of ['default', 't-2']) {
        const s = subject(tenantId);
        const at = new Date().toISOString();
        const inserted = await createApprovalRepo(db).insert({ id, tenantId, digest: approvalDigest(s), status: 'pending', subject: s, policy: { approvers: [{ roles: ['approver'] }], count: 1, confirm: false, timeoutMs: 60_000, reuse: 'once', agentOwnerMayApprove: false, rules: [] }, createdAt: at, expiresAt: at, votes: [] });
        expect(inserted).toBe(true);
      }
    }, 60_000);
    afterAll(() => fresh?.dispose());

    it('makes one random key per tenant, the same for every replica', async () => {
      const [a, b] = [createApprovalLinkRepo(fresh.database.db), createApprovalLinkRepo(fresh.database.db)];
      const [k1, k2] = await Promise.all([a.key('default'), b.key('default')]);
      expect(k1.length).toBe(32);
      expect(k2.equals(k1)).toBe(true);
      expect((await a.key('default')).equals(k1)).toBe(true);
      expect((await a.key('t-2')).equals(k1)).toBe(false);
    });

    it('claims a link once; a released claim can be made again; tenants are apart', async () => {
      const repo = createApprovalLinkRepo(fresh.database.db);
      const use = { sigHash: 'h1', requestId: id, vote: 'approve' as const, usedBy: 'bob', at: new Date().toISOString() };
      expect(await repo.claim('default', use)).toBe(true);
      expect(await repo.claim('default', { ...use, usedBy: 'carol' })).toBe(false);
      // The same signature hash in another tenant is another link.
      expect(await repo.claim('t-2', use)).toBe(true);
      await repo.release('default', 'h1');
      expect(await repo.claim('default', { ...use, usedBy: 'carol' })).toBe(true);
    });

    it('row-level security: a tenant reads only its own key and uses', async () => {
      const db = fresh.database.db;
      const keys = await withTenant(db, 't-2', (trx) => sql<{ tenant_id: string }>`SELECT tenant_id FROM approval_link_keys`.execute(trx));
      expect(keys.rows.map((r) => r.tenant_id)).toEqual(['t-2']);
      const uses = await withTenant(db, 't-2', (trx) => sql<{ tenant_id: string; used_by: string }>`SELECT tenant_id, used_by FROM approval_link_uses`.execute(trx));
      expect(uses.rows).toEqual([{ tenant_id: 't-2', used_by: 'bob' }]);
      await expect(withTenant(db, 't-2', (trx) => sql`INSERT INTO approval_link_keys (tenant_id, key, created_at) VALUES ('default', 'x', now())`.execute(trx))).rejects.toThrow();
    });
  });
}
