import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { sql } from 'kysely';
import type { AuditEvent } from '../src/domain/audit-event.js';
import { isWardenError } from '../src/domain/errors.js';
import { chainEvents, verifyChain } from '../src/audit/index.js';
import { createAuditRepo, migrate, MIGRATIONS, openDatabase, type Database } from '../src/store/index.js';
import { listPartitions, monthOf } from '../src/store/audit-partitions.js';

import { ADMIN_URL, admin, postgresProblem } from './support/databases.js';

const SLOW = 120_000;

/** A fresh, empty database of one dialect; `open` may be called several times for several pools. */
interface Target {
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

interface DialectCase {
  name: 'pglite' | 'postgres';
  fresh(): Promise<Target>;
}

const pgliteCase: DialectCase = {
  name: 'pglite',
  async fresh() {
    // One in-memory instance per target, so that every `open` sees the same data.
    const database = await openDatabase({ memory: true });
    const shared: Database = { ...database, close: async () => {} };
    return { open: async () => shared, dispose: () => database.close() };
  },
};

const postgresCase: DialectCase = {
  name: 'postgres',
  async fresh() {
    const name = `warden_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      open: () => openDatabase({ url: url.toString() }),
      dispose: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  },
};

const problem = await postgresProblem();
if (problem && process.env.CI) {
  describe('store on postgres', () => {
    it('reaches PostgreSQL (required when CI is set)', () => {
      throw new Error(problem);
    });
  });
} else if (problem) {
  console.warn(`skipping the PostgreSQL store suite: ${problem}`);
}

const T0 = Date.parse('2026-11-24T22:00:00.000Z');

function event(overrides: Partial<AuditEvent> & { agentId?: string; tool?: string; effect?: 'allow' | 'deny' | 'require_approval' } = {}): AuditEvent {
  const { agentId, tool, effect, ...rest } = overrides;
  return {
    id: randomUUID(),
    schemaVersion: '1.0',
    time: new Date(T0).toISOString(),
    tenantId: 'default',
    category: 'decision',
    type: 'tool.call.decided',
    severity: 'info',
    outcome: 'success',
    actor: { type: 'agent', id: agentId ?? 'agent-0' },
    scope: 'acme/platform',
    ...(agentId ? { agent: { id: agentId } } : {}),
    ...(tool ? { target: { kind: 'tool' as const, server: tool.split('.')[0]!, name: tool } } : {}),
    ...(effect ? { decision: { effect, reasons: [], warnings: [], findings: [], obligations: [] } } : {}),
    ...rest,
  };
}

/** Appends through the chain, as the writer does. */
function appender(repo: ReturnType<typeof createAuditRepo>) {
  return (events: AuditEvent[]) => repo.appendChained('default', (head) => chainEvents(head, events, new Date()));
}

/** An event as appended, without the fields the chain adds. */
function bare(e: AuditEvent): AuditEvent {
  const { integrity: _i, loggedAt: _l, ...rest } = e;
  return rest as AuditEvent;
}

/** `n` events one millisecond apart starting `offsetMs` after T0, oldest first. */
function series(n: number, offsetMs = 0, overrides: Parameters<typeof event>[0] = {}): AuditEvent[] {
  return Array.from({ length: n }, (_, i) => event({ time: new Date(T0 + offsetMs + i).toISOString(), ...overrides }));
}

/** The order `list` must return: time descending, then id descending (ISO `Z` times of one format sort as text). */
function newestFirst(events: AuditEvent[]): AuditEvent[] {
  return [...events].sort((a, b) => (a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1));
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isWardenError(err), `expected a WardenError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

for (const dialect of [pgliteCase, postgresCase]) {
  describe.skipIf(dialect.name === 'postgres' && problem !== undefined)(`store on ${dialect.name}`, { timeout: SLOW }, () => {
    defineSuite(dialect);
  });
}

/** The contract every dialect must meet, against one fresh database. */
function defineSuite(dialect: DialectCase): void {
  let target: Target;
  let database: Database;
  let audit: ReturnType<typeof createAuditRepo> & { append: (events: AuditEvent[]) => Promise<void> };

  beforeAll(async () => {
    target = await dialect.fresh();
    database = await target.open();
    await migrate(database.db);
    const repo = createAuditRepo(database);
    audit = Object.assign(repo, { append: appender(repo) });
  }, SLOW);

  afterAll(async () => {
    await database?.close();
    await target?.dispose();
  }, SLOW);

  beforeEach(async () => {
    await sql`DELETE FROM audit_events`.execute(database.db);
    await sql`DELETE FROM audit_chain_heads`.execute(database.db);
    await sql`DELETE FROM audit_checkpoints`.execute(database.db);
  });

  /** Every event the filter matches, following cursors page by page. */
  async function listAll(query: Omit<Parameters<typeof audit.list>[0], 'cursor'>): Promise<AuditEvent[][]> {
    const pages: AuditEvent[][] = [];
    let cursor: string | undefined;
    do {
      // A cursor that stops advancing would otherwise loop past the test's timeout forever.
      if (pages.length > 100) throw new Error('pagination did not end after 100 pages');
      const page = await audit.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
      pages.push(page.events.map(bare));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return pages;
  }

  it('reports the dialect it opened', () => {
    expect(database.dialect).toBe(dialect.name);
  });

  describe('migrate', () => {
    it('is a no-op the second time', async () => {
      expect(await migrate(database.db)).toEqual({ applied: [] });
      const rows = await database.db.selectFrom('warden_migrations').select('name').execute();
      expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    });

    it('applies each migration once when migrators run at the same time', async () => {
      const fresh = await dialect.fresh();
      // On postgres each handle is its own pool, standing in for a separate process.
      const handles = await Promise.all([fresh.open(), fresh.open(), fresh.open(), fresh.open()]);
      try {
        const results = await Promise.all(handles.map((h) => migrate(h.db)));
        expect(results.flatMap((r) => r.applied).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
        const rows = await handles[0]!.db.selectFrom('warden_migrations').select('name').execute();
        expect(rows).toHaveLength(MIGRATIONS.length);
        await appender(createAuditRepo(handles[1]!))([event()]);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
        await fresh.dispose();
      }
    });

    it('rolls back a failing migration and reports store.migration_failed', async () => {
      const broken = { name: '999-broken', sql: 'CREATE TABLE broken_probe (a int); SELECT * FROM no_such_table;' };
      await expectCode(migrate(database.db, [...MIGRATIONS, broken]), 'store.migration_failed');
      const probe = await sql<{ t: string | null }>`SELECT to_regclass('broken_probe')::text AS t`.execute(database.db);
      expect(probe.rows[0]?.t).toBeNull();
      const names = await database.db.selectFrom('warden_migrations').select('name').execute();
      expect(names.map((r) => r.name)).not.toContain('999-broken');
    });
  });

  describe('append and list', () => {
    it('returns events exactly as appended, newest first', async () => {
      const full = event({
        time: '2026-11-24T23:00:00Z',
        action: { kind: 'tool.call' },
        agentId: 'agent-7',
        onBehalfOf: { id: 'alice', roles: ['developer'] },
        tool: 'deploy.release',
        outcome: 'denied',
        decision: {
          effect: 'deny',
          reasons: [{ policy: 'restrict-shell', version: 3, rule: 'r', effect: 'deny', message: 'no “shell” at night ☾' }],
          warnings: [],
          findings: [],
          obligations: [{ type: 'notify', params: { to: ['#sec'], nested: { n: null, f: 0.1 + 0.2 } } }],
        },
        payload: { argsDigest: 'sha256:ab' },
        actor: { type: 'agent', id: 'agent-7', ip: '10.0.0.1', userAgent: 'agent/1.0' },
        latencyMs: 1.25,
      });
      // Time strings in other shapes must come back untouched, not normalised by the database.
      const offset = event({ time: '2026-11-24T23:30:00.123456+01:00' });
      const minimal = event({ time: '2026-11-24T21:00:00.5Z' });
      await audit.append([minimal, full, offset]);
      const page = await audit.list({ limit: 10 });
      expect(page.events.map(bare)).toEqual([full, offset, minimal]);
      expect(page.events.map((e) => e.integrity?.seq)).toEqual([2, 3, 1]);
      expect((await verifyChain(audit.streamChain('default'), { head: await audit.head('default') })).ok).toBe(true);
      expect(page.events.map((e) => e.time)).toEqual(['2026-11-24T23:00:00Z', '2026-11-24T23:30:00.123456+01:00', '2026-11-24T21:00:00.5Z']);
      expect(page.nextCursor).toBeNull();
    });

    it('stores fields with the characters COPY and JSON escape exactly, and their columns match', async () => {
      // On PostgreSQL rows go in by COPY's text format: backslash, tab, newline, CR and `\N` mean
      // something there; NUL is cleaned to U+FFFD before hashing (the chain covers what is stored).
      const odd = 'a\tb\nc\rd\\e \\N "q" ☾ 𝒜 \u202e';
      const e = event({ agentId: odd, tool: `srv.${odd}`, scope: `acme/${odd}`, onBehalfOf: { id: `\\N`, roles: [odd] }, payload: { args: { text: `${odd}\u0000` } } });
      await audit.append([e]);
      const [got] = (await audit.list({ limit: 1 })).events;
      expect(bare(got!)).toEqual({ ...e, payload: { args: { text: `${odd}\uFFFD` } } });
      await audit.append([event({ agentId: 'plain', tool: 'srv.plain' })]);
      expect((await audit.list({ limit: 5, agent: odd })).events.map((x) => x.id)).toEqual([e.id]);
      expect((await audit.list({ limit: 5, tool: `srv.${odd}` })).events.map((x) => x.id)).toEqual([e.id]);
      expect((await verifyChain(audit.streamChain('default'), { head: await audit.head('default') })).ok).toBe(true);
      expect(await audit.columnMismatches('default', 10)).toEqual([]);
    });

    it('lists nothing from an empty log and accepts an empty append', async () => {
      await audit.append([]);
      expect(await audit.list({ limit: 5 })).toEqual({ events: [], nextCursor: null });
    });

    it('appends 2000 events in one call', async () => {
      const many = series(2000);
      await audit.append(many);
      const pages = await listAll({ limit: 1000 });
      expect(pages.map((p) => p.length)).toEqual([1000, 1000]);
      expect(pages.flat().map((e) => e.id)).toEqual(newestFirst(many).map((e) => e.id));
    });

    it('stores nothing from a batch when one event is rejected', async () => {
      const good = event();
      const bad = event({ id: 'not-a-uuid' });
      await expect(audit.append([good, bad])).rejects.toThrow();
      expect((await audit.list({ limit: 10 })).events).toEqual([]);
      expect((await audit.head('default')).seq).toBe(0);
    });

    it('keeps an append made during another transaction out of that transaction', async () => {
      const outside = event();
      let entered!: () => void;
      const started = new Promise<void>((resolve) => (entered = resolve));
      let appendSettled!: () => void;
      const appendDone = new Promise<void>((resolve) => (appendSettled = resolve));
      let settled = false;
      let pendingWhileOpen: boolean | undefined;
      const rolledBack = database.db
        .transaction()
        .execute(async (trx) => {
          await sql`INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ('ghost', 0, 'x')`.execute(trx);
          entered();
          if (dialect.name === 'postgres') {
            // The append runs on a connection of its own and commits while this transaction is open.
            await appendDone;
          } else {
            // PGlite has one session: the append must wait until this transaction lets it go. That it
            // did not run meanwhile can only be seen over a window, so this wait is the assertion's.
            await new Promise((resolve) => setTimeout(resolve, 50));
            pendingWhileOpen = !settled;
          }
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await started;
      const appended = audit.append([outside]).finally(() => {
        settled = true;
        appendSettled();
      });
      await appended;
      await rolledBack;
      if (dialect.name === 'pglite') expect(pendingWhileOpen, 'the append ran inside the open transaction').toBe(true);
      expect((await audit.list({ limit: 10 })).events.map(bare)).toEqual([outside]);
      expect(await audit.tenants()).toEqual(['default']);
    });

    it('rejects an event appended again with the same id and leaves the chain intact', async () => {
      const once = event();
      await audit.append([once]);
      await expect(audit.append([once])).rejects.toThrow();
      expect((await audit.list({ limit: 10 })).events.map(bare)).toEqual([once]);
      expect(await audit.head('default')).toMatchObject({ seq: 1 });
    });

    it('numbers chains per tenant and streams them in order', async () => {
      const repo = audit;
      await repo.appendChained('t1', (h) => chainEvents(h, series(3, 0, { tenantId: 't1' }), new Date()));
      await repo.appendChained('t2', (h) => chainEvents(h, series(2, 0, { tenantId: 't2' }), new Date()));
      await repo.appendChained('t1', (h) => chainEvents(h, series(2, 10, { tenantId: 't1' }), new Date()));
      const seqs: number[] = [];
      for await (const e of repo.streamChain('t1', { batchSize: 2 })) seqs.push(e.integrity!.seq);
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
      expect((await repo.head('t2')).seq).toBe(2);
      expect(await repo.tenants()).toEqual(['t1', 't2']);
      expect((await repo.list({ limit: 10, tenant: 't2' })).events).toHaveLength(2);
    });

    it('keeps the chain of a tenant whose id holds quotes, backslashes and placeholder-like text', async () => {
      // The PostgreSQL path inlines the tenant id as a literal: `$2` in it once took the place of a placeholder.
      const odd = "t$2'x\\$1 $$";
      await audit.appendChained(odd, (h) => chainEvents(h, series(2, 0, { tenantId: odd }), new Date()));
      await audit.appendChained(odd, (h) => chainEvents(h, series(1, 5, { tenantId: odd }), new Date()));
      expect(await audit.head(odd)).toMatchObject({ seq: 3 });
      expect(await audit.tenants()).toEqual([odd]);
      expect((await verifyChain(audit.streamChain(odd), { head: await audit.head(odd) })).ok).toBe(true);
      expect(await audit.columnMismatches(odd, 10)).toEqual([]);
    });

    it("makes this month's partition (and next month's, near its end) in the background, outside the chain lock", async () => {
      // Events from another month: the partition made ahead is the clock's, not the events'.
      await audit.append(series(1));
      const wanted = [monthOf(new Date().toISOString()).name, monthOf(new Date(Date.now() + 3 * 86_400_000).toISOString()).name];
      let names: string[] = [];
      for (let i = 0; i < 100 && !wanted.every((w) => names.includes(w)); i++) {
        await new Promise((r) => setTimeout(r, 20));
        names = (await listPartitions(database.db)).map((p) => p.name);
      }
      expect(names).toEqual(expect.arrayContaining([...new Set(wanted)]));
    });

    it('numbers two writers on separate connections without gaps or duplicates', async () => {
      const other = await target.open();
      try {
        const b = appender(createAuditRepo(other));
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : audit.append)(series(5, i * 10))));
        const report = await verifyChain(audit.streamChain('default'), { head: await audit.head('default') });
        expect(report).toMatchObject({ ok: true, events: 50, lastSeq: 50 });
      } finally {
        if (other !== database) await other.close();
      }
    });
  });

  describe('filters', () => {
    const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
    const a = event({ time: at(0), agentId: 'agent-1', tool: 'shell.run', effect: 'deny', scope: 'acme' });
    const b = event({ time: at(1), agentId: 'agent-2', tool: 'deploy.release', effect: 'allow', scope: 'acme/platform' });
    const c = event({ time: at(2), agentId: 'agent-1', tool: 'deploy.release', effect: 'require_approval', scope: 'acme/platform/payments' });
    const d = event({ time: at(3), scope: 'acme/platformx' });
    const e = event({ time: at(4), scope: 'a_me/p%' });
    const f = event({ time: at(5), scope: 'a_me/p%/x' });
    const g = event({ time: at(6), scope: 'axme/pzz' });

    beforeEach(async () => {
      await audit.append([a, b, c, d, e, f, g]);
    });

    const ids = async (query: Omit<Parameters<typeof audit.list>[0], 'limit'>) =>
      (await audit.list({ limit: 100, ...query })).events.map((x) => x.id);

    it('bounds time: from inclusive, to exclusive', async () => {
      expect(await ids({ from: at(1), to: at(3) })).toEqual([c.id, b.id]);
      expect(await ids({ from: at(5) })).toEqual([g.id, f.id]);
      expect(await ids({ to: at(1) })).toEqual([a.id]);
      // Bounds in another offset name the same instants.
      expect(await ids({ from: '2026-11-24T23:01:00+01:00', to: '2026-11-24T23:02:00.000001+01:00' })).toEqual([c.id, b.id]);
    });

    it('filters by agent, tool and effect, alone and combined', async () => {
      expect(await ids({ agent: 'agent-1' })).toEqual([c.id, a.id]);
      expect(await ids({ tool: 'deploy.release' })).toEqual([c.id, b.id]);
      expect(await ids({ effect: 'deny' })).toEqual([a.id]);
      expect(await ids({ agent: 'agent-1', tool: 'deploy.release', effect: 'require_approval' })).toEqual([c.id]);
      expect(await ids({ agent: 'nobody' })).toEqual([]);
    });

    it('matches a scope and its descendants, not its siblings or ancestors', async () => {
      expect(await ids({ scope: 'acme' })).toEqual([d.id, c.id, b.id, a.id]);
      expect(await ids({ scope: 'acme/platform' })).toEqual([c.id, b.id]);
      expect(await ids({ scope: 'acme/platform/payments' })).toEqual([c.id]);
      expect(await ids({ scope: 'acm' })).toEqual([]);
    });

    it('treats LIKE wildcards in a scope literally', async () => {
      expect(await ids({ scope: 'a_me' })).toEqual([f.id, e.id]);
      expect(await ids({ scope: 'a_me/p%' })).toEqual([f.id, e.id]);
      expect(await ids({ scope: 'a%' })).toEqual([]);
    });

    it('rejects a bad limit or time bound as request.invalid', async () => {
      await expectCode(audit.list({ limit: 0 }), 'request.invalid');
      await expectCode(audit.list({ limit: 1001 }), 'request.invalid');
      await expectCode(audit.list({ limit: 1.5 }), 'request.invalid');
      await expectCode(audit.list({ limit: 10, from: 'yesterday' }), 'request.invalid');
      await expectCode(audit.list({ limit: 10, to: '2026-13-45T00:00:00Z' }), 'request.invalid');
    });
  });

  describe('pagination', () => {
    it('walks every event once across pages, ties on time broken by id', async () => {
      const tied = Array.from({ length: 9 }, () => event({ time: new Date(T0 + 5).toISOString() }));
      const all = [...series(12), ...tied, ...series(6, 20)];
      await audit.append(all);
      const pages = await listAll({ limit: 4 });
      expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 4, 3]);
      expect(pages.flat().map((e) => e.id)).toEqual(newestFirst(all).map((e) => e.id));
    });

    it('ends with a null cursor when the last page is exactly full', async () => {
      await audit.append(series(6));
      const pages = await listAll({ limit: 3 });
      expect(pages.map((p) => p.length)).toEqual([3, 3]);
    });

    it('keeps microsecond order between pages', async () => {
      const micro = ['.000001', '.000002', '.000003', '.000010'].map((us) => event({ time: `2026-11-24T22:00:00${us}Z` }));
      await audit.append(micro);
      const pages = await listAll({ limit: 1 });
      expect(pages.flat().map((e) => e.id)).toEqual([...micro].reverse().map((e) => e.id));
    });

    it('stays stable while events are appended between pages', async () => {
      const before = series(10);
      await audit.append(before);
      const first = await audit.list({ limit: 4 });
      await audit.append(series(5, 1000));
      await audit.append([event({ time: before[5]!.time })]); // ties the next page's first time, sorts anywhere by id
      const rest: AuditEvent[] = [];
      let cursor = first.nextCursor;
      while (cursor !== null) {
        if (rest.length > 100) throw new Error('pagination did not end');
        const page = await audit.list({ limit: 4, cursor });
        rest.push(...page.events);
        cursor = page.nextCursor;
      }
      const seen = [...first.events, ...rest].map((e) => e.id);
      expect(new Set(seen).size).toBe(seen.length);
      // Every original event appears exactly once and in order; newer events never leak in.
      expect(seen.filter((id) => before.some((e) => e.id === id))).toEqual(newestFirst(before).map((e) => e.id));
      expect(rest.every((e) => e.time <= first.events.at(-1)!.time)).toBe(true);
    });

    it('combines a cursor with filters', async () => {
      const mine = series(7, 0, { agentId: 'agent-9' });
      await audit.append([...mine, ...series(7, 0, { agentId: 'agent-8' })]);
      const pages = await listAll({ limit: 3, agent: 'agent-9' });
      expect(pages.flat().map((e) => e.id)).toEqual(newestFirst(mine).map((e) => e.id));
    });

    it('rejects a malformed cursor as audit.cursor_invalid', async () => {
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const uuid = randomUUID();
      const bad = [
        '',
        'not a cursor!',
        Buffer.from('garbage').toString('base64url'),
        b64({ time: '2026-11-24T22:00:00.000000Z', id: uuid }),
        b64([1, 2]),
        b64(['2026-11-24T22:00:00.000000Z']),
        b64(['2026-02-30T22:00:00.000000Z', uuid]),
        b64(['2026-11-24 22:00:00', uuid]),
        b64(['2026-11-24T22:00:00.000000Z', "'; DROP TABLE audit_events; --"]),
      ];
      for (const cursor of bad) await expectCode(audit.list({ limit: 5, cursor }), 'audit.cursor_invalid');
    });
  });
}

describe('openDatabase', { timeout: SLOW }, () => {
  it('reports an unreachable server as store.unavailable, without the password', async () => {
    const err = await openDatabase({ url: 'postgres://warden:s3cret@127.0.0.1:1/warden?sslpassword=x2' }).catch((e: unknown) => e);
    expect(isWardenError(err)).toBe(true);
    const { code, message } = err as { code: string; message: string };
    expect(code).toBe('store.unavailable');
    expect(message).toContain('postgres://warden@127.0.0.1:1/warden');
    expect(message).not.toMatch(/s3cret|x2/);
  });

  it('asks for a database when given none', async () => {
    await expectCode(openDatabase({}), 'config.invalid');
  });

  it('keeps an embedded database across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-store-'));
    try {
      const dataDir = join(dir, 'nested', 'data'); // created when missing
      const kept = event({ agentId: 'agent-persist' });
      const first = await openDatabase({ dataDir });
      expect((await migrate(first.db)).applied).toEqual(MIGRATIONS.map((m) => m.name));
      await appender(createAuditRepo(first))([kept]);
      await first.close();

      const second = await openDatabase({ dataDir });
      try {
        expect(await migrate(second.db)).toEqual({ applied: [] });
        expect((await createAuditRepo(second).list({ limit: 10 })).events.map(bare)).toEqual([kept]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
