// Audit benchmarks (issue #3): ingest with hashing + indexes vs raw COPY, group-commit acks,
// export throughput and memory, filtered-page query latency. PostgreSQL at 127.0.0.1:5432 and PGlite.
//   npx tsx bench/audit/audit-bench.ts [--ingest 200000] [--export 1000000] [--query 1000000]
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { chainEvents, createAuditWriter, GENESIS_HASH, type ChainHead } from '../../src/audit/index.js';
import { newAuditEvent, type AuditEvent } from '../../src/domain/index.js';
import { createAuditRepo, migrate, openDatabase, type AuditRepo, type Database } from '../../src/store/index.js';
import { percentile } from '../support/stats.js';

const ADMIN = process.env.WARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const INGEST = Number(args.get('ingest') ?? 200_000);
const EXPORT = Number(args.get('export') ?? 1_000_000);
const QUERY = Number(args.get('query') ?? 1_000_000);
const BATCH = 5000;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

let rng = 42;
const rand = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

function event(i: number): AuditEvent {
  const agent = `agent-${Math.floor(rand() * 500)}`;
  const deny = rand() < 0.2;
  return newAuditEvent(
    {
      scope: `acme/g${Math.floor(rand() * 20)}/s${Math.floor(rand() * 10)}/p${Math.floor(rand() * 50)}`,
      category: 'decision',
      type: 'tool.call.decided',
      outcome: deny ? 'denied' : 'success',
      severity: deny ? 'medium' : 'info',
      actor: { type: 'agent', id: agent, ip: '10.1.2.3' },
      agent: { id: agent, kind: 'coding-assistant' },
      onBehalfOf: { id: `user-${Math.floor(rand() * 2000)}`, roles: ['developer'] },
      target: { kind: 'tool', server: 'ops', name: ['shell.run', 'files.read', 'deploy.release', 'db.query'][Math.floor(rand() * 4)]! },
      action: { kind: 'tool.call' },
      decision: { effect: deny ? 'deny' : 'allow', reasons: [{ policy: 'baseline', version: 3, rule: deny ? 'no-shell' : 'reads', effect: deny ? 'deny' : 'allow' }], warnings: [], findings: [], obligations: [] },
      payload: { argsDigest: `sha256:${randomBytes(32).toString('hex')}` },
      latencyMs: Math.round(rand() * 5000) / 1000,
    },
    new Date(Date.parse('2026-01-01T00:00:00Z') + i * 100),
  );
}

async function freshPg(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `warden_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = new pg.Client({ connectionString: ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Ingests `n` events through the chained append (hash + jsonb + indexes); returns events/s and the chained rows. */
async function ingest(repo: AuditRepo, n: number, keep: boolean, label: string): Promise<{ perSec: number; rows: AuditEvent[] }> {
  const rows: AuditEvent[] = [];
  let head: ChainHead = { seq: 0, hash: GENESIS_HASH, loggedAt: undefined };
  const t0 = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => event(i + k));
    await repo.appendChained('default', (h) => {
      const r = chainEvents(h, batch, new Date());
      head = r.head;
      if (keep) rows.push(...r.events);
      return r;
    });
    if ((i / BATCH) % 20 === 0) log(`  ${label}: ${i + batch.length}/${n}`);
  }
  void head;
  return { perSec: n / ((performance.now() - t0) / 1000), rows };
}

const esc = (s: string | undefined | null) => (s == null ? '\\N' : s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r'));
const COLUMNS = '(tenant_id, chain_seq, id, time, logged_at, category, type, scope, outcome, action_kind, agent_id, principal_id, server, tool, effect, prev_hash, hash, event)';

function copyLine(e: AuditEvent): string {
  return `${['default', String(e.integrity!.seq), e.id, e.time, e.loggedAt!, e.category, e.type, e.scope, e.outcome, e.action?.kind, e.agent?.id, e.onBehalfOf?.id, e.target?.server, e.target?.name, e.decision?.effect, e.integrity!.prevHash, e.integrity!.hash, JSON.stringify(e)].map((v) => esc(v)).join('\t')}\n`;
}

/**
 * Fills `audit_events` (indexes on) with `n` chained events by COPY, for the export and query
 * measurements, where only the table's contents matter; the chain head is set to match.
 */
async function fillByCopy(url: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let head: ChainHead = { seq: 0, hash: GENESIS_HASH, loggedAt: undefined };
  const rows = async function* () {
    for (let i = 0; i < n; i += BATCH) {
      const r = chainEvents(head, Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => event(i + k)), new Date());
      head = r.head;
      let chunk = '';
      for (const e of r.events) chunk += copyLine(e);
      yield chunk;
      if ((i / BATCH) % 100 === 0) log(`  fill: ${i + BATCH}/${n}`);
    }
  };
  await pipeline(Readable.from(rows()), client.query(copyFrom(`COPY audit_events ${COLUMNS} FROM STDIN`)));
  await client.query(`INSERT INTO audit_chain_heads (tenant_id, seq, hash, logged_at) VALUES ('default', $1, $2, $3)`, [head.seq, head.hash, head.loggedAt]);
  await client.end();
}

/** Raw COPY of the same rows into an unindexed table: the anchor. */
async function copyAnchor(url: string, rows: AuditEvent[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE UNLOGGED TABLE IF NOT EXISTS copy_anchor (LIKE audit_events INCLUDING DEFAULTS)`);
  await client.query('TRUNCATE copy_anchor');
  const t0 = performance.now();
  const lines = function* () {
    for (const e of rows) yield copyLine(e);
  };
  await pipeline(Readable.from(lines()), client.query(copyFrom(`COPY copy_anchor ${COLUMNS} FROM STDIN`)));
  const perSec = rows.length / ((performance.now() - t0) / 1000);
  await client.query('DROP TABLE copy_anchor');
  await client.end();
  return perSec;
}

/** Many concurrent callers of one writer, one event each: how group commit amortizes. */
async function groupCommit(repo: AuditRepo, callers: number, perCaller: number): Promise<{ perSec: number; p50: number; p99: number; batches: number }> {
  const writer = createAuditWriter({ store: repo, clock: { now: () => new Date() } });
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < perCaller; i++) {
        const s = performance.now();
        await writer.append([event(10_000_000 + c * perCaller + i)]);
        lat.push(performance.now() - s);
      }
    }),
  );
  const perSec = (callers * perCaller) / ((performance.now() - t0) / 1000);
  lat.sort((a, b) => a - b);
  return { perSec, p50: percentile(lat, 50), p99: percentile(lat, 99), batches: writer.stats().batches };
}

/**
 * Exports every event with the real CLI (`warden audit export`) in a child process, so its peak
 * RSS is the export's own and not this bench's.
 */
async function exportAll(url: string, n: number): Promise<{ perSec: number; n: number; rssPeakMb: number }> {
  const { spawnSync } = await import('node:child_process');
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', `
      const { runCli } = await import('./src/cli/program.ts');
      const io = { stdout: () => {}, stderr: () => {}, env: process.env, cwd: process.cwd(), untilStopped: async () => {} };
      const code = await runCli(['audit', 'export', '--database-url', ${JSON.stringify(url)}, '--output', '/dev/null', '--no-progress'], io);
      process.stdout.write(JSON.stringify({ code, maxRss: process.resourceUsage().maxRSS }));
    `],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const out = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{'))) as { code: number; maxRss: number };
  if (out.code !== 0) throw new Error(`export failed: ${r.stderr}`);
  return { perSec: n / seconds, n, rssPeakMb: out.maxRss / 1024 };
}

async function queryLatency(repo: AuditRepo, samples: number): Promise<Record<string, { p50: number; p99: number }>> {
  const shapes: Record<string, () => Parameters<AuditRepo['list']>[0]> = {
    'agent, 50 newest': () => ({ agent: `agent-${Math.floor(rand() * 500)}`, limit: 50 }),
    'scope subtree + effect=deny': () => ({ scope: `acme/g${Math.floor(rand() * 20)}`, effect: 'deny', limit: 50 }),
    'time window (1 h) + tool': () => {
      const start = Date.parse('2026-01-01T00:00:00Z') + Math.floor(rand() * 20) * 3_600_000;
      return { from: new Date(start).toISOString(), to: new Date(start + 3_600_000).toISOString(), tool: 'shell.run', limit: 50 };
    },
    'second page (cursor) by agent': () => ({ agent: `agent-${Math.floor(rand() * 500)}`, limit: 50 }),
  };
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const [name, make] of Object.entries(shapes)) {
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      let q = make();
      if (name.startsWith('second')) {
        const first = await repo.list(q);
        if (first.nextCursor) q = { ...q, cursor: first.nextCursor };
      }
      const s = performance.now();
      await repo.list(q);
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    out[name] = { p50: percentile(lat, 50), p99: percentile(lat, 99) };
  }
  return out;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, ingest: INGEST, export: EXPORT, query: QUERY };

  // PostgreSQL: ingest vs COPY.
  const a = await freshPg();
  let database: Database = await openDatabase({ url: a.url });
  await migrate(database.db);
  let repo = createAuditRepo(database.db);
  log(`PostgreSQL ingest of ${INGEST} events (hash chain, jsonb, 7 indexes)…`);
  const pgIngest = await ingest(repo, INGEST, true, 'pg ingest');
  log('raw COPY of the same rows into an unindexed table…');
  const copy = await copyAnchor(a.url, pgIngest.rows);
  log('group commit: 64 concurrent callers…');
  const gc = await groupCommit(repo, 64, 100);
  await database.close();
  await a.drop();
  results.postgres = { ingestPerSec: pgIngest.perSec, copyPerSec: copy, ratio: pgIngest.perSec / copy, groupCommit: gc };

  // PGlite ingest.
  const lite = await openDatabase({ memory: true });
  await migrate(lite.db);
  log(`PGlite ingest of ${Math.min(INGEST, 100_000)} events…`);
  const liteIngest = await ingest(createAuditRepo(lite.db), Math.min(INGEST, 100_000), false, 'pglite ingest');
  const liteGc = await groupCommit(createAuditRepo(lite.db), 64, 50);
  await lite.close();
  results.pglite = { ingestPerSec: liteIngest.perSec, groupCommit: liteGc };

  // Export and query on one PostgreSQL database filled once.
  const b = await freshPg();
  database = await openDatabase({ url: b.url });
  await migrate(database.db);
  repo = createAuditRepo(database.db);
  const fill = Math.max(EXPORT, QUERY);
  log(`filling ${fill} chained events by COPY for export and query…`);
  await fillByCopy(b.url, fill);
  const analyze = new pg.Client({ connectionString: b.url });
  await analyze.connect();
  await analyze.query('ANALYZE audit_events');
  await analyze.end();
  log('export (JSONL to /dev/null)…');
  const exp = await exportAll(b.url, fill);
  log('query latency…');
  const q = await queryLatency(repo, 200);
  await database.close();
  await b.drop();
  results.export = exp;
  results.query = { events: fill, shapes: q };

  const pgR = results.postgres as { ingestPerSec: number; copyPerSec: number; ratio: number; groupCommit: { perSec: number; p50: number; p99: number; batches: number } };
  console.log(`\nAudit bench — node ${process.version}, ${new Date().toISOString()}`);
  console.log(`| measure | value |\n|---|---|`);
  console.log(`| PostgreSQL ingest (chain + jsonb + indexes), events/s | ${pgR.ingestPerSec.toFixed(0)} |`);
  console.log(`| PostgreSQL raw COPY, unindexed, events/s (anchor) | ${pgR.copyPerSec.toFixed(0)} |`);
  console.log(`| ratio ingest / COPY | ${pgR.ratio.toFixed(3)} |`);
  console.log(`| PostgreSQL group commit, 64 callers × 1 event: events/s, ack p50 / p99 ms, transactions | ${pgR.groupCommit.perSec.toFixed(0)}, ${pgR.groupCommit.p50.toFixed(2)} / ${pgR.groupCommit.p99.toFixed(2)}, ${pgR.groupCommit.batches} |`);
  const lr = results.pglite as { ingestPerSec: number; groupCommit: { perSec: number; p50: number; p99: number; batches: number } };
  console.log(`| PGlite ingest, events/s | ${lr.ingestPerSec.toFixed(0)} |`);
  console.log(`| PGlite group commit, 64 callers: events/s, ack p50 / p99 ms | ${lr.groupCommit.perSec.toFixed(0)}, ${lr.groupCommit.p50.toFixed(2)} / ${lr.groupCommit.p99.toFixed(2)} |`);
  console.log(`| \`warden audit export\` JSONL of ${exp.n} events (own process, start-up included): events/s | ${exp.perSec.toFixed(0)} |`);
  console.log(`| export process peak RSS MiB | ${exp.rssPeakMb.toFixed(0)} |`);
  for (const [name, v] of Object.entries(q)) console.log(`| query over ${fill} events, ${name}: p50 / p99 ms | ${v.p50.toFixed(2)} / ${v.p99.toFixed(2)} |`);
  const { writeFile, mkdir } = await import('node:fs/promises');
  await mkdir('bench/.out', { recursive: true });
  await writeFile('bench/.out/audit.json', JSON.stringify(results, null, 2));
}

await main();
