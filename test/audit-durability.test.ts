import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditWriter, verifyChain } from '../src/audit/index.js';
import { digestJson, newAuditEvent, type AuditEvent } from '../src/domain/index.js';
import { AUDIT_MODES, type AuditMode } from '../src/gateway/index.js';
import { createAuditRepo, migrate, openDatabase, type Database } from '../src/store/index.js';
import { EVERYTHING, POLICIES, policyDir, textOf } from './fixtures/gateway-harness.js';
import { dialects, freshPostgres, postgresProblem, type FreshDatabase } from './support/databases.js';

const ROOT = join(import.meta.dirname, '..');
const all = await dialects();
const pgProblem = await postgresProblem();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Runs the load process against `target`, kills it with SIGKILL after `acks` acknowledgements, returns the acked ids. */
function loadThenKill(target: string, acks: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/audit-load.ts', target], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: string[] = [];
  let buf = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load process too slow: ${acked.length} acks\n${err}`));
    }, 90_000);
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('ACK ')) acked.push(line.slice(4));
      }
      if (acked.length >= acks && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`load process exited with ${code}: ${err}`));
    });
  });
}

describe('no acknowledged event is lost on kill -9', () => {
  it.skipIf(pgProblem !== undefined)('on PostgreSQL', async () => {
    const fresh = await freshPostgres();
    cleanups.push(fresh.dispose);
    const acked = await loadThenKill(fresh.url!, 1500);
    const repo = createAuditRepo(fresh.database);
    const { rows } = await sql<{ id: string }>`SELECT id::text AS id FROM audit_events`.execute(fresh.database.db);
    const stored = new Set(rows.map((r) => r.id));
    expect(acked.length).toBeGreaterThanOrEqual(1500);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    const report = await verifyChain(repo.streamChain('default'), { head: await repo.head('default') });
    expect(report).toMatchObject({ ok: true });
    expect(report.events).toBe(stored.size);
  }, 120_000);

  it('on the embedded database (PGlite on disk)', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-kill-')), 'data');
    const acked = await loadThenKill(dataDir, 600);
    const db = await openDatabase({ dataDir });
    cleanups.push(() => db.close());
    await migrate(db.db);
    const repo = createAuditRepo(db);
    const { rows } = await sql<{ id: string }>`SELECT id::text AS id FROM audit_events`.execute(db.db);
    const stored = new Set(rows.map((r) => r.id));
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    expect((await verifyChain(repo.streamChain('default'), { head: await repo.head('default') })).ok).toBe(true);
  }, 120_000);
});

/**
 * Runs `warden gateway --stdio` in `mode` over server-everything, has 16 callers on one agent
 * session make `echo` calls with unique messages, and kills the gateway with SIGKILL once `acks`
 * answers arrived. Returns every message whose answer the agent received (some arrive after the
 * kill: the gateway wrote them before it died).
 */
async function gatewayLoadThenKill(mode: AuditMode, store: string[], acks: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-kill-gw-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--stdio', '--audit-mode', mode, '--policies', policyDir(POLICIES), '--scope', 'acme/platform', '--agent', 'loader', '--audit-key', join(dir, 'key.pem'), ...store, '--', process.execPath, EVERYTHING, 'stdio'],
    cwd: ROOT,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const client = new Client({ name: 'kill-test', version: '1' });
  await client.connect(transport);
  const pid = transport.pid!;
  const acked: string[] = [];
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    process.kill(pid, 'SIGKILL');
  }, 100_000);
  const caller = async (n: number) => {
    for (let i = 0; !killed; i++) {
      const message = `c${n}-${i}`;
      const r = await client.callTool({ name: 'echo', arguments: { message } }).catch(() => undefined);
      if (r === undefined) return;
      if (textOf(r) !== `Echo: ${message}`) throw new Error(`unexpected answer: ${JSON.stringify(r)}\n${stderr}`);
      acked.push(message);
      if (acked.length >= acks && !killed) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, (_, n) => caller(n)));
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => {});
  }
  if (acked.length < acks) throw new Error(`the gateway answered ${acked.length} calls before it was killed\n${stderr}`);
  return acked;
}

/** Checks the store after a kill: every answered call has its decision, no result event points nowhere, the chain holds. */
async function expectAnsweredCallsDecided(db: Database['db'], acked: string[]): Promise<void> {
  const { rows } = await sql<{ event: AuditEvent }>`SELECT coalesce(body::jsonb, event) AS event FROM audit_events`.execute(db);
  const events = rows.map((r) => r.event);
  const decided = new Set(events.filter((e) => e.type === 'tool.call.decided').map((e) => e.payload?.argsDigest));
  expect(acked.filter((m) => !decided.has(digestJson({ message: m })))).toEqual([]);
  const decisions = new Set(events.filter((e) => e.category === 'decision').map((e) => e.id));
  expect(events.filter((e) => e.category === 'tool_call' && !(e.correlationId !== undefined && decisions.has(e.correlationId)))).toEqual([]);
  const repo = createAuditRepo({ db });
  expect(await verifyChain(repo.streamChain('default'), { head: await repo.head('default') })).toMatchObject({ ok: true, events: events.length });
}

for (const mode of AUDIT_MODES) {
  describe(`no call the gateway answered loses its decision on kill -9 (audit mode ${mode})`, () => {
    it.skipIf(pgProblem !== undefined)('on PostgreSQL', async () => {
      const fresh = await freshPostgres();
      cleanups.push(fresh.dispose);
      // Every commit takes 30 ms longer, so an answer sent before its decision commits would be caught
      // by the kill far more often than with a commit of a millisecond or two.
      await sql`CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.03); RETURN NULL; END $$`.execute(fresh.database.db);
      await sql`CREATE TRIGGER slow_commit AFTER INSERT ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION slow_commit()`.execute(fresh.database.db);
      const acked = await gatewayLoadThenKill(mode, ['--database-url', fresh.url!], 400);
      await expectAnsweredCallsDecided(fresh.database.db, acked);
    }, 150_000);

    it('on the embedded database (PGlite on disk)', async () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-kill-gw-')), 'data');
      const acked = await gatewayLoadThenKill(mode, ['--data-dir', dataDir], 300);
      const db = await openDatabase({ dataDir });
      cleanups.push(() => db.close());
      await migrate(db.db);
      await expectAnsweredCallsDecided(db.db, acked);
    }, 150_000);
  });
}

for (const dialect of all) {
  describe(`tamper evidence on ${dialect.name}`, () => {
    const ev = (i: number): AuditEvent =>
      newAuditEvent({ scope: 'acme/x', category: 'decision', type: 'tool.call.decided', outcome: 'success', actor: { type: 'agent', id: `a${i}` } }, new Date(Date.parse('2026-11-24T10:00:00Z') + i));

    async function fresh(): Promise<FreshDatabase & { verify: (opts?: { parsedToo?: boolean }) => ReturnType<typeof verifyChain> }> {
      const f = await dialect.fresh();
      cleanups.push(f.dispose);
      const repo = createAuditRepo(f.database);
      await createAuditWriter({ store: repo, clock: { now: () => new Date() } }).append(Array.from({ length: 20 }, (_, i) => ev(i)));
      // As `warden audit verify` reads it (stored text hashed unparsed, small batches to cross their
      // edges) and as parsed events: both must find the same.
      const verify = async (opts: { parsedToo?: boolean } = {}) => {
        const stored = repo.storedChain('default', { batchSize: 3 });
        const fast = await verifyChain(stored.entries, { head: await repo.head('default'), columnMismatches: () => stored.columnMismatches(100) });
        if (opts.parsedToo === false) return fast;
        const parsed = await verifyChain(repo.streamChain('default'), { head: await repo.head('default'), columnMismatches: await repo.columnMismatches('default', 100) });
        expect(fast).toEqual(parsed);
        return fast;
      };
      expect(await verify()).toMatchObject({ ok: true, events: 20 });
      return { ...f, verify };
    }
    const hashOf = (text: string) => sql.raw(`'sha256:' || encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`);

    it('catches a changed row', async () => {
      const f = await fresh();
      await sql`UPDATE audit_events SET body = replace(body, '"outcome":"success"', '"outcome":"denied"') WHERE chain_seq = 5`.execute(f.database.db);
      const r = await f.verify();
      expect(r.findings[0]).toMatchObject({ kind: 'changed', seq: 5 });
      // The outcome column no longer matches the body either.
      expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'column', seq: 5, message: expect.stringContaining('`outcome`') }));
    });

    it('catches a row whose body and hash were both rewritten, through the next link', async () => {
      const f = await fresh();
      const edited = `replace(body, '"outcome":"success"', '"outcome":"denied"')`;
      await sql`UPDATE audit_events SET body = ${sql.raw(edited)}, outcome = 'denied', hash = ${hashOf(edited)} WHERE chain_seq = 5`.execute(f.database.db);
      const r = await f.verify();
      expect(r.findings[0]).toMatchObject({ kind: 'changed', seq: 5, message: expect.stringContaining('is not the event that event 6 links to') });
    });

    it('catches a body that is not JSON, or that is the same event in another layout', async () => {
      const f = await fresh();
      await sql`UPDATE audit_events SET body = 'garbage', hash = ${hashOf(`'garbage'`)} WHERE chain_seq = 4`.execute(f.database.db);
      // Same members, whitespace added: every reader parses the same event, but it is not the text that was hashed.
      await sql`UPDATE audit_events SET body = replace(body, ',"outcome":', ', "outcome":') WHERE chain_seq = 8`.execute(f.database.db);
      // Readers refuse the text that is not JSON; verify names it.
      await expect(f.verify()).rejects.toThrow(/`[0-9a-f-]+` is not a JSON object: the log was altered/);
      const r = await f.verify({ parsedToo: false });
      expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'changed', seq: 4, message: expect.stringContaining('not an audit event') }));
      expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'changed', seq: 8, message: expect.stringContaining('does not match its hash') }));
      expect(r.firstBadSeq).toBe(4);
    });

    it('verifies a chain whose older rows hold jsonb events (written before migration 009), and catches a change in one', async () => {
      const f = await fresh();
      const repo = createAuditRepo(f.database);
      const before = (await repo.list({ limit: 100 })).events;
      await sql`UPDATE audit_events SET body = NULL,
                  event = body::jsonb || jsonb_build_object('integrity', (body::jsonb -> 'integrity') || jsonb_build_object('hash', hash))
                WHERE chain_seq <= 10`.execute(f.database.db);
      expect(await f.verify()).toMatchObject({ ok: true, events: 20 });
      expect((await repo.list({ limit: 100 })).events).toEqual(before);
      await sql`UPDATE audit_events SET event = jsonb_set(event, '{outcome}', '"denied"') WHERE chain_seq = 5`.execute(f.database.db);
      expect((await f.verify()).findings[0]).toMatchObject({ kind: 'changed', seq: 5 });
    });

    it('catches a deleted row and a deleted tail', async () => {
      const f = await fresh();
      await sql`DELETE FROM audit_events WHERE chain_seq = 9`.execute(f.database.db);
      expect((await f.verify()).findings[0]).toMatchObject({ kind: 'deleted', seq: 9 });
      await sql`DELETE FROM audit_events WHERE chain_seq >= 18`.execute(f.database.db);
      expect((await f.verify()).findings.map((x) => x.kind)).toContain('truncated');
    });

    it('catches an inserted row', async () => {
      const f = await fresh();
      // A copy of event 7 under a new id, slotted in as 21 with a link that cannot be right.
      await sql`INSERT INTO audit_events SELECT tenant_id, 21, gen_random_uuid(), time, logged_at, category, type, scope, outcome, action_kind, agent_id, principal_id, server, tool, effect, prev_hash, hash, event, body
                FROM audit_events WHERE chain_seq = 7`.execute(f.database.db);
      expect((await f.verify()).findings[0]).toMatchObject({ kind: 'inserted', seq: 7 });
    });

    it('catches reordered rows', async () => {
      const f = await fresh();
      await sql`UPDATE audit_events SET chain_seq = -1 WHERE chain_seq = 11`.execute(f.database.db);
      await sql`UPDATE audit_events SET chain_seq = 11 WHERE chain_seq = 12`.execute(f.database.db);
      await sql`UPDATE audit_events SET chain_seq = 12 WHERE chain_seq = -1`.execute(f.database.db);
      const r = await f.verify();
      expect(r.firstBadSeq).toBe(11);
      expect(r.findings.map((x) => x.kind)).toContain('reordered');
    });

    it('keeps a chain intact under concurrent writers', async () => {
      const f = await dialect.fresh();
      cleanups.push(f.dispose);
      const repo = createAuditRepo(f.database);
      const w1 = createAuditWriter({ store: repo, clock: { now: () => new Date() } });
      const w2 = createAuditWriter({ store: repo, clock: { now: () => new Date() } });
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? w1 : w2).append([ev(i), ev(i + 100)])));
      const r = await verifyChain(repo.streamChain('default'), { head: await repo.head('default') });
      expect(r).toMatchObject({ ok: true, events: 80 });
    });
  });
}
