import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditWriter, createCheckpointer, createRetentionService, verifyChain } from '../src/audit/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { newAuditEvent, type AuditCategory, type AuditEvent } from '../src/domain/index.js';
import { createAuditRepo, createRetentionRepo } from '../src/store/index.js';
import { dialects } from './support/databases.js';

const all = await dialects();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-24T12:00:00Z');
const ev = (daysAgo: number, category: AuditCategory, scope: string): AuditEvent =>
  newAuditEvent({ scope, category, type: category === 'decision' ? 'tool.call.decided' : 'registry.tool.blocked', outcome: 'success', actor: { type: 'agent', id: 'a' } }, new Date(NOW - daysAgo * DAY));

for (const dialect of all) {
  describe(`retention on ${dialect.name}`, () => {
    async function setup() {
      const f = await dialect.fresh();
      cleanups.push(f.dispose);
      const repo = createAuditRepo(f.database);
      const clock = { now: () => new Date(NOW) };
      const writer = createAuditWriter({ store: repo, clock });
      const store = createRetentionRepo(f.database.db);
      const svc = createRetentionService({ store, audit: writer, clock });
      const { privateKey } = generateKeyPairSync('ed25519');
      const checkpointer = createCheckpointer({ chain: repo, checkpoints: repo, key: privateKey, clock });
      const verify = async () =>
        verifyChain(repo.streamChain('default'), { head: await repo.head('default'), checkpoints: await repo.listCheckpoints('default'), evidence: await repo.evidence('default'), columnMismatches: await repo.columnMismatches('default', 100) });
      return { f, repo, writer, store, svc, verify, clock, seal: () => checkpointer.sealAll() };
    }

    it('removes expired events of a category, keeps the chain verifiable, audits the removal, and respects legal holds', async () => {
      const { f, repo, writer, svc, verify, seal } = await setup();
      const events = [
        ev(100, 'decision', 'acme/a'), // expired
        ev(90, 'decision', 'acme/legal/case-1'), // expired but held
        ev(80, 'admin', 'acme/a'), // another category: kept
        ev(70, 'decision', 'acme/legal/case-1/x'), // held (below the hold's scope)
        ev(60, 'decision', 'acme/legalese'), // look-alike scope: not held
        ev(10, 'decision', 'acme/a'), // recent: kept
      ];
      await writer.append(events);
      // A checkpoint over the whole range, signed before anything is removed, must still verify.
      await seal();
      await svc.setRetention('default', 'decision', 30, { type: 'user', id: 'alice' });
      const hold = await svc.addHold({ tenantId: 'default', scope: 'acme/legal', from: new Date(NOW - 365 * DAY).toISOString(), reason: 'case 42' }, { type: 'user', id: 'legal' });

      const [outcome] = await svc.run();
      expect(outcome).toMatchObject({ category: 'decision', removed: 2, held: 2, fromSeq: 1, toSeq: 5, seqs: '1,5' });
      const left = (await repo.list({ limit: 100 })).events;
      const ids = new Set(left.map((e) => e.id));
      expect([0, 1, 2, 3, 4, 5].map((i) => ids.has(events[i]!.id))).toEqual([false, true, true, true, false, true]);
      const types = left.map((e) => e.type);
      expect(types).toContain('audit.retention.deleted');
      expect(types).toContain('audit.retention.updated');
      expect(types).toContain('audit.hold.created');

      // Until a checkpoint signs the retention event, its stubs are not proven.
      expect((await verify()).findings).toContainEqual(expect.objectContaining({ kind: 'deleted', seq: 1, message: expect.stringContaining('no signed checkpoint covers') }));
      await seal();
      const report = await verify();
      expect(report).toMatchObject({ ok: true, removed: 2 });

      // A deletion that did not go through retention (no stub) is still caught.
      await sql`DELETE FROM audit_events WHERE chain_seq = 6`.execute(f.database.db);
      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.findings).toContainEqual(expect.objectContaining({ kind: 'deleted', seq: 6 }));
      // The signed checkpoint over that range no longer matches either.
      expect(broken.findings.map((x) => x.kind)).toContain('checkpoint');

      // Released, the hold no longer protects.
      expect(await svc.releaseHold('default', hold.id, { type: 'user', id: 'legal' })).toBeDefined();
      expect(await svc.releaseHold('default', hold.id, { type: 'user', id: 'legal' })).toBeUndefined();
      const again = await svc.run();
      // Whole expired months now go as partitions, the rest row by row: two events either way.
      const dropped = svc.lastDrops().flatMap((d) => d.tenants).reduce((n, t) => n + t.removed, 0);
      expect(again[0]!.held).toBe(0);
      expect(again[0]!.removed + dropped).toBe(2);
      expect((await verify()).findings.map((x) => x.kind)).not.toContain('changed');
    });

    it('drops whole expired months as partitions, keeping stubs, and leaves mixed months to the row pass', async () => {
      const { repo, writer, svc, verify, seal } = await setup();
      const events = [
        ev(130, 'decision', 'acme/a'), // July: decision only -> partition dropped
        ev(129, 'decision', 'acme/b'),
        ev(100, 'decision', 'acme/a'), // August: also holds an admin event with no period -> kept
        ev(99, 'admin', 'acme/a'),
        ev(10, 'decision', 'acme/a'), // November: current
      ];
      await writer.append(events);
      await svc.setRetention('default', 'decision', 30, { type: 'user', id: 'alice' });
      const outcomes = await svc.run();
      expect(svc.lastDrops().map((d) => d.partition)).toEqual(['audit_events_p202607']);
      expect(svc.lastDrops()[0]!.tenants).toEqual([{ tenantId: 'default', removed: 2, fromSeq: 1, toSeq: 2, seqs: '1-2', removalId: expect.any(String) }]);
      // The August decision goes the row-level way; the admin event stays.
      expect(outcomes.find((o) => o.category === 'decision')).toMatchObject({ removed: 1, fromSeq: 3, toSeq: 3 });
      const left = new Set((await repo.list({ limit: 100 })).events.map((e) => e.id));
      expect(events.map((e) => left.has(e.id))).toEqual([false, false, false, true, true]);
      expect((await repo.list({ limit: 100, type: 'audit.retention.partition_dropped' })).events).toHaveLength(1);
      await seal();
      expect(await verify()).toMatchObject({ ok: true, removed: 3 });
      // Nothing more to drop the second time.
      await svc.run();
      expect(svc.lastDrops()).toEqual([]);
    });

    it('changes nothing when no period is set', async () => {
      const { writer, svc, verify } = await setup();
      await writer.append([ev(1000, 'decision', 'acme')]);
      expect(await svc.run()).toEqual([]);
      expect((await verify()).removed).toBe(0);
    });
  });
}
