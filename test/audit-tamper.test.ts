import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditWriter, createCheckpointer, createRetentionService, verifyChain } from '../src/audit/index.js';
import { newAuditEvent, type AuditCategory, type AuditEvent } from '../src/domain/index.js';
import { createAuditRepo, createRetentionRepo, migrate, openDatabase } from '../src/store/index.js';
import { cli } from './support/cli.js';
import { dialects } from './support/databases.js';

// Tampering by direct SQL, as an operator with database access would: verify must name each edit.
const all = await dialects();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-24T12:00:00Z');
const ev = (daysAgo: number, i: number, scope = 'acme/a'): AuditEvent =>
  newAuditEvent(
    {
      scope,
      category: 'decision' as AuditCategory,
      type: 'tool.call.decided',
      outcome: 'success',
      actor: { type: 'agent', id: `agent-${i}` },
      agent: { id: `agent-${i}` },
      onBehalfOf: { id: `user-${i}` },
      target: { kind: 'tool', server: 'ops', name: `tool-${i}` },
      action: { kind: 'tool.call' },
      decision: { effect: 'deny', reasons: [], warnings: [], findings: [], obligations: [] },
    },
    new Date(NOW - daysAgo * DAY + i),
  );

for (const dialect of all) {
  describe(`tampering on ${dialect.name}`, () => {
    async function setup() {
      const f = await dialect.fresh();
      cleanups.push(f.dispose);
      const repo = createAuditRepo(f.database);
      const clock = { now: () => new Date(NOW) };
      const writer = createAuditWriter({ store: repo, clock });
      const svc = createRetentionService({ store: createRetentionRepo(f.database.db), audit: writer, clock });
      const { privateKey } = generateKeyPairSync('ed25519');
      const checkpointer = createCheckpointer({ chain: repo, checkpoints: repo, key: privateKey, clock });
      // As `warden audit verify` reads the log (stored bodies hashed unparsed, columns compared while
      // streaming), and as parsed events with the database's column check over every row: both
      // must find the same.
      const verify = async (tenant = 'default') => {
        const common = async () => ({ head: await repo.head(tenant), checkpoints: await repo.listCheckpoints(tenant), evidence: await repo.evidence(tenant) });
        const stored = repo.storedChain(tenant, { batchSize: 7, thread: false });
        const fast = await verifyChain(stored.entries, { ...(await common()), columnMismatches: () => stored.columnMismatches(100) });
        const parsed = await verifyChain(repo.streamChain(tenant), { ...(await common()), columnMismatches: await repo.columnMismatches(tenant, 100) });
        expect(fast).toEqual(parsed);
        if (dialect.name === 'postgres') {
          // Read in a second thread, as long chains are.
          const threaded = repo.storedChain(tenant, { batchSize: 7, thread: true });
          expect(await verifyChain(threaded.entries, { ...(await common()), columnMismatches: () => threaded.columnMismatches(100) })).toEqual(fast);
        }
        return fast;
      };
      const db = f.database.db;
      return { db, repo, writer, svc, verify, seal: () => checkpointer.sealAll() };
    }

    it('a forged retention stub is named, while a genuine retention removal verifies', async () => {
      const { db, writer, svc, verify, seal } = await setup();
      // 1..3 expired, 4 expired but held, 5..6 recent.
      await writer.append([ev(100, 1), ev(99, 2), ev(98, 3), ev(97, 4, 'acme/legal'), ev(1, 5), ev(1, 6)]);
      await svc.setRetention('default', 'decision', 30, { type: 'user', id: 'alice' });
      await svc.addHold({ tenantId: 'default', scope: 'acme/legal', reason: 'case 42' }, { type: 'user', id: 'legal' });
      // Only 1 and 3 are removed now: 2 stays because a hold on its scope is placed, then released later.
      await svc.addHold({ tenantId: 'default', scope: 'acme/a', from: new Date(NOW - 99 * DAY).toISOString(), to: new Date(NOW - 98.5 * DAY).toISOString(), reason: 'one day' }, { type: 'user', id: 'legal' });
      const [outcome] = await svc.run();
      expect(outcome).toMatchObject({ removed: 2, held: 2, seqs: '1,3' });
      await seal();
      expect(await verify()).toMatchObject({ ok: true, removed: 2 });

      // A stub forged for each kind of victim: a recent event (5), a held one (4), one inside the removal's range (2).
      const forge = async (seq: number, removedBy: 'none' | 'genuine') => {
        await sql`
          WITH gone AS (DELETE FROM audit_events WHERE chain_seq = ${seq} RETURNING tenant_id, chain_seq, id, category, time, scope, prev_hash, hash)
          INSERT INTO audit_tombstones (tenant_id, chain_seq, id, category, time, scope, prev_hash, hash, removed_by)
          SELECT tenant_id, chain_seq, id, category, time - interval '200 days', scope, prev_hash, hash,
                 ${removedBy === 'genuine' ? sql`(SELECT removed_by FROM audit_tombstones WHERE chain_seq = 1)` : sql`NULL`} FROM gone`.execute(db);
      };
      await forge(5, 'none');
      let r = await verify();
      expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
      expect(r.findings).toEqual([expect.objectContaining({ kind: 'deleted', seq: 5, message: expect.stringContaining('names no retention event') })]);
      await forge(2, 'genuine');
      await forge(4, 'genuine');
      r = await verify();
      expect(r.firstBadSeq).toBe(2);
      expect(r.findings.map((f) => [f.kind, f.seq])).toEqual([['deleted', 2], ['deleted', 4], ['deleted', 5]]);
      expect(r.findings[0]!.message).toContain('does not list it among the events it removed');
    });

    it('names the row and the column when an indexed column differs from the hashed body, for every column', async () => {
      const { db, writer, verify, seal } = await setup();
      await writer.append(Array.from({ length: 30 }, (_, i) => ev(1, i)));
      await seal();
      expect((await verify()).ok).toBe(true);
      const { rows } = await sql<{ column_name: string; data_type: string }>`
        SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name NOT IN ('event', 'body') ORDER BY ordinal_position`.execute(db);
      expect(rows.length).toBeGreaterThanOrEqual(17);
      const edit: Record<string, string> = {
        bigint: '%I + 1000',
        uuid: 'gen_random_uuid()',
        'timestamp with time zone': `%I + interval '1 second'`,
        text: `'tampered'`,
      };
      const expected: [number, string][] = [];
      for (const [i, { column_name: col, data_type: type }] of rows.entries()) {
        const seq = i + 2;
        const value = sql.raw(edit[type]!.replace('%I', `"${col}"`));
        await sql`UPDATE audit_events SET ${sql.ref(col)} = ${value} WHERE chain_seq = ${seq}`.execute(db);
        expected.push([seq, col]);
      }
      const r = await verify();
      // The body, links and checkpoint are untouched; only the columns queries and retention use were edited.
      const columns = r.findings.filter((f) => f.kind === 'column').map((f) => [f.seq, /`(\w+)`/.exec(f.message)![1]]);
      const movedTenant = expected.find(([, c]) => c === 'tenant_id')!;
      // The hash column is no copy of the body (which holds every member but the hash): it is the claim the body is checked against.
      const hash = expected.find(([, c]) => c === 'hash')!;
      expect(columns).toEqual(expected.filter((x) => x !== movedTenant && x !== hash));
      expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'changed', seq: hash[0], message: expect.stringContaining('does not match its hash') }));
      // The row moved to another tenant is missing from its chain, and named as a column edit in the other one.
      expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'deleted', seq: movedTenant[0] }));
      expect((await verify('tampered')).findings).toContainEqual(expect.objectContaining({ kind: 'column', seq: movedTenant[0], message: expect.stringContaining('`tenant_id`') }));
      expect(r.firstBadSeq).toBe(2);
    });

    it('names a forged stub, a gap and a moved row where the reader\'s batches (1024 rows) meet', async () => {
      const { db, writer, verify, seal } = await setup();
      await writer.append(Array.from({ length: 1100 }, (_, i) => ev(1, i)));
      await seal();
      expect((await verify()).ok).toBe(true);
      await sql`
        WITH gone AS (DELETE FROM audit_events WHERE chain_seq = 1024 RETURNING tenant_id, chain_seq, id, category, time, scope, prev_hash, hash)
        INSERT INTO audit_tombstones (tenant_id, chain_seq, id, category, time, scope, prev_hash, hash) SELECT * FROM gone`.execute(db);
      await sql`DELETE FROM audit_events WHERE chain_seq = 1025`.execute(db);
      // Read last, out of order, and named by its body's number.
      await sql`UPDATE audit_events SET chain_seq = 5000 WHERE chain_seq = 1023`.execute(db);
      const r = await verify();
      const found = r.findings.map((f) => [f.kind, f.seq]);
      expect(found).toEqual(expect.arrayContaining([['deleted', 1024], ['deleted', 1025], ['reordered', 1023], ['column', 1023]]));
      expect(r.firstBadSeq).toBe(1023);
    });

    it('names a changed body, a forged or re-cased hash and a nulled one inside a reader batch (1024 rows) and where two meet', async () => {
      const { db, writer, verify, seal } = await setup();
      await writer.append(Array.from({ length: 1100 }, (_, i) => ev(1, i)));
      await seal();
      expect((await verify()).ok).toBe(true);
      // Inside the first batch: a body edited in place (its columns still as written).
      await sql`UPDATE audit_events SET body = replace(body, '"outcome":"success"', '"outcome":"failure"') WHERE chain_seq = 500`.execute(db);
      // The last row of the first batch claims another hash; the first of the next, its own in upper case.
      await sql`UPDATE audit_events SET hash = 'sha256:' || repeat('ab', 32) WHERE chain_seq = 1024`.execute(db);
      await sql`UPDATE audit_events SET hash = 'sha256:' || upper(substr(hash, 8)) WHERE chain_seq = 1025`.execute(db);
      await sql`ALTER TABLE audit_events ALTER COLUMN hash DROP NOT NULL`.execute(db);
      await sql`UPDATE audit_events SET hash = NULL WHERE chain_seq = 700`.execute(db);
      // verify() also checks that every reader (in this thread, in a second one, parsed) finds the same.
      const r = await verify();
      const changed = r.findings.filter((f) => f.kind === 'changed').map((f) => [f.seq, f.message]);
      expect(changed).toEqual(
        expect.arrayContaining([
          [500, expect.stringContaining('does not match its hash')],
          [700, expect.stringContaining('does not match its hash')],
          [1024, expect.stringContaining('does not match its hash')],
          [1025, expect.stringContaining('does not match its hash')],
        ]),
      );
      expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'checkpoint', message: expect.stringContaining('Merkle root') }));
      expect(r.firstBadSeq).toBe(500);
    });

    it('names a NULL column where its constraint was dropped', async () => {
      const { db, writer, verify, seal } = await setup();
      await writer.append(Array.from({ length: 12 }, (_, i) => ev(1, i)));
      await seal();
      await sql`ALTER TABLE audit_events ALTER COLUMN logged_at DROP NOT NULL, ALTER COLUMN id DROP NOT NULL`.execute(db);
      await sql`UPDATE audit_events SET logged_at = NULL WHERE chain_seq = 3`.execute(db);
      await sql`UPDATE audit_events SET id = NULL WHERE chain_seq = 5`.execute(db);
      const r = await verify();
      expect(r.findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'column', seq: 3, message: expect.stringContaining('`logged_at`') }),
          expect.objectContaining({ kind: 'column', seq: 5, message: expect.stringContaining('`id`') }),
        ]),
      );
    });

    it('names the deleted row inside a checkpoint, not the checkpoint', async () => {
      const { db, writer, verify, seal } = await setup();
      await writer.append(Array.from({ length: 25 }, (_, i) => ev(1, i)));
      await seal();
      await sql`DELETE FROM audit_events WHERE chain_seq = 12`.execute(db);
      const r = await verify();
      expect(r.findings.map((f) => f.kind)).toContain('checkpoint');
      expect(r.firstBadSeq).toBe(12);
    });
  });
}

describe('warden audit verify: sealing', () => {
  it('fails a log with no checkpoint, and one whose last checkpoint is older than --max-seal-age', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-tamper-')), 'data');
    const database = await openDatabase({ dataDir });
    let now = NOW;
    try {
      await migrate(database.db);
      const repo = createAuditRepo(database);
      const clock = { now: () => new Date(now) };
      const writer = createAuditWriter({ store: repo, clock });
      await writer.append([ev(0, 1), ev(0, 2)]);
    } finally {
      await database.close();
    }
    const none = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('NOT SEALED');
    expect(none.stdout).toContain('no signed checkpoint covers this chain');

    const again = await openDatabase({ dataDir });
    try {
      const repo = createAuditRepo(again);
      const clock = { now: () => new Date(now) };
      await createCheckpointer({ chain: repo, checkpoints: repo, key: generateKeyPairSync('ed25519').privateKey, clock }).sealAll();
      // Ten minutes later events are still written, but nothing seals them.
      now += 600_000;
      await createAuditWriter({ store: repo, clock }).append([ev(0, 3)]);
    } finally {
      await again.close();
    }
    const stale = await cli(['audit', 'verify', '--data-dir', dataDir, '--format', 'json']);
    expect(stale.code).toBe(1);
    const report = JSON.parse(stale.stdout) as { tenants: { default: { findings: { kind: string; seq: number; message: string }[] } } };
    expect(report.tenants.default.findings).toEqual([expect.objectContaining({ kind: 'unsealed', seq: 3 })]);
    // The default (2 x 60 s + 60 s) is exceeded; an operator who seals hourly says so.
    expect((await cli(['audit', 'verify', '--data-dir', dataDir, '--checkpoint-interval', '3600'])).code).toBe(0);
    expect((await cli(['audit', 'verify', '--data-dir', dataDir, '--max-seal-age', '601'])).code).toBe(0);
  });
});
