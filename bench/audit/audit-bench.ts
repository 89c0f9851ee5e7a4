// Audit benchmarks (issues #3 and #19): chained ingest (one caller through the store, and many
// callers through the group-commit writer) against raw COPY of the same rows in the same run,
// group-commit acks, PGlite, `warden audit verify` over a sealed chain (own process: time, peak
// RSS), export throughput and memory, filtered-page query latency. PostgreSQL at 127.0.0.1:5432.
//   npx tsx bench/audit/audit-bench.ts [--ingest 100000] [--verify 1000000] [--export 1000000] [--query 1000000] [--keep 1]
// --keep 1 keeps the database filled for verify, export and query, and prints how to verify it (to profile).
// Runs against whatever src/ it sits in (rows are filled in the schema found), so the committed
// code before a change can be measured with the same file from a `git worktree` of it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { chainEvents, createAuditWriter, GENESIS_HASH, MerkleBuilder, signCheckpoint, type ChainHead } from '../../src/audit/index.js';
import { canonicalJson, newAuditEvent, type AuditEvent } from '../../src/domain/index.js';
import { createAuditRepo, migrate, openDatabase, type AuditRepo, type Database } from '../../src/store/index.js';
import { percentile } from '../support/stats.js';

const ADMIN = process.env.WARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const INGEST = Number(args.get('ingest') ?? 100_000);
const EXPORT = Number(args.get('export') ?? 1_000_000);
const QUERY = Number(args.get('query') ?? 1_000_000);
const VERIFY = Number(args.get('verify') ?? 1_000_000);
/** Concurrent callers of the writer in the writer-ingest measurement, and events per append. */
const CALLERS = 8;
const APPEND = 500;
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

/** `n` fresh events, made before any clock starts: making them is not the log's work. */
function events(n: number, from: number): AuditEvent[] {
  return Array.from({ length: n }, (_, i) => event(from + i));
}

/** One caller, straight through the store: each 5 000-event batch chained under the lock and inserted. */
async function ingestStore(repo: AuditRepo, batch: readonly AuditEvent[], label: string): Promise<{ perSec: number; rows: AuditEvent[] }> {
  const rows: AuditEvent[] = [];
  const t0 = performance.now();
  for (let i = 0; i < batch.length; i += BATCH) {
    await repo.appendChained('default', (h) => {
      const r = chainEvents(h, batch.slice(i, i + BATCH), new Date());
      rows.push(...r.events);
      return r;
    });
    if ((i / BATCH) % 20 === 0) log(`  ${label}: ${i + BATCH}/${batch.length}`);
  }
  return { perSec: batch.length / ((performance.now() - t0) / 1000), rows };
}

/** The group-commit writer, as the gateway uses it: CALLERS concurrent callers appending APPEND events at a time. */
async function ingestWriter(repo: AuditRepo, batch: readonly AuditEvent[]): Promise<{ perSec: number; transactions: number }> {
  const writer = createAuditWriter({ store: repo, clock: { now: () => new Date() } });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < batch.length) {
        const at = next;
        next += APPEND;
        await writer.append(batch.slice(at, at + APPEND));
      }
    }),
  );
  return { perSec: batch.length / ((performance.now() - t0) / 1000), transactions: writer.stats().batches };
}

const esc = (s: string | undefined | null) => (s == null ? '\\N' : s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r'));
const FLAT = 'tenant_id, chain_seq, id, time, logged_at, category, type, scope, outcome, action_kind, agent_id, principal_id, server, tool, effect, prev_hash, hash';

/** The canonical text an event's hash is over (what the store keeps in `body` since migration 009). */
function bodyOf(e: AuditEvent): string {
  const { integrity, ...rest } = e;
  return canonicalJson({ ...rest, integrity: { seq: integrity!.seq, prevHash: integrity!.prevHash } });
}

/** One COPY line: the flat columns, then the event as jsonb (`json`) or its canonical text (`body`). */
function copyLine(e: AuditEvent, last: 'json' | 'body'): string {
  return `${['default', String(e.integrity!.seq), e.id, e.time, e.loggedAt!, e.category, e.type, e.scope, e.outcome, e.action?.kind, e.agent?.id, e.onBehalfOf?.id, e.target?.server, e.target?.name, e.decision?.effect, e.integrity!.prevHash, e.integrity!.hash, last === 'json' ? JSON.stringify(e) : bodyOf(e)].map((v) => esc(v)).join('\t')}\n`;
}

async function storesBodyAt(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await storesBody(client);
  } finally {
    await client.end();
  }
}

/** Whether the schema stores canonical text (`body`, migration 009) or jsonb (`event`). */
async function storesBody(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'body'`);
  return rows.length > 0;
}

/**
 * Fills `audit_events` (indexes on) with `n` chained events by COPY, in whichever form the schema
 * stores them, sets the chain head to match and seals the chain with one signed checkpoint (so
 * verify checks a Merkle root too). Returns the public key file that checkpoint verifies with.
 */
async function fillByCopy(url: string, n: number): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const last = (await storesBody(client)) ? 'body' : 'json';
  let head: ChainHead = { seq: 0, hash: GENESIS_HASH, loggedAt: undefined };
  const merkle = new MerkleBuilder();
  const rows = async function* () {
    for (let i = 0; i < n; i += BATCH) {
      const r = chainEvents(head, events(Math.min(BATCH, n - i), i), new Date());
      head = r.head;
      let chunk = '';
      for (const e of r.events) {
        chunk += copyLine(e, last);
        merkle.add(e.integrity!.hash);
      }
      yield chunk;
      if ((i / BATCH) % 100 === 0) log(`  fill: ${i + BATCH}/${n}`);
    }
  };
  await pipeline(Readable.from(rows()), client.query(copyFrom(`COPY audit_events (${FLAT}, ${last === 'body' ? 'body' : 'event'}) FROM STDIN`)));
  await client.query(`INSERT INTO audit_chain_heads (tenant_id, seq, hash, logged_at) VALUES ('default', $1, $2, $3)`, [head.seq, head.hash, head.loggedAt]);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const cp = signCheckpoint({ tenantId: 'default', fromSeq: 1, toSeq: head.seq, root: merkle.root(), lastHash: head.hash, createdAt: new Date().toISOString() }, privateKey);
  await client.query(
    `INSERT INTO audit_checkpoints (tenant_id, from_seq, to_seq, root, last_hash, created_at, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [cp.tenantId, cp.fromSeq, cp.toSeq, cp.root, cp.lastHash, cp.createdAt, cp.keyId, cp.publicKey, cp.signature],
  );
  await client.end();
  const pem = join(mkdtempSync(join(tmpdir(), 'warden-bench-')), 'audit-key.pub.pem');
  writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
  return pem;
}

/**
 * Raw COPY of the same rows into an unindexed, unlogged table: the anchor. `json` copies each
 * event as jsonb (the anchor measured since issue #3), `body` as its canonical text.
 */
async function copyAnchor(url: string, rows: readonly AuditEvent[], last: 'json' | 'body', like?: 'audit_events'): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS copy_anchor`);
  // `like`: the audit table's own shape, logged, with every index it has: what the database alone
  // costs for these rows, without the chain.
  if (like) await client.query(`CREATE TABLE copy_anchor (LIKE audit_events INCLUDING ALL)`);
  else
    await client.query(`CREATE UNLOGGED TABLE copy_anchor (
    tenant_id text, chain_seq bigint, id uuid, time timestamptz, logged_at timestamptz, category text, type text, scope text, outcome text,
    action_kind text, agent_id text, principal_id text, server text, tool text, effect text, prev_hash text, hash text, ${last === 'json' ? 'event jsonb' : 'body text'})`);
  // The lines are printed before the clock starts: the anchor is the database's COPY alone.
  const lines = rows.map((e) => copyLine(e, last));
  const t0 = performance.now();
  await pipeline(Readable.from(lines), client.query(copyFrom(like ? `COPY copy_anchor (${FLAT}, ${last === 'body' ? 'body' : 'event'}) FROM STDIN` : `COPY copy_anchor FROM STDIN`)));
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
        const e = event(10_000_000 + c * perCaller + i);
        const s = performance.now();
        await writer.append([e]);
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

/** `warden audit verify` over the whole log in a child process: its wall time, the command's own time, and peak RSS. */
async function verifyAll(url: string, trustedKey: string, n: number): Promise<{ seconds: number; commandSeconds: number; n: number; rssPeakMb: number; ok: boolean }> {
  const { spawnSync } = await import('node:child_process');
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', `
      const { runCli } = await import('./src/cli/program.ts');
      let out = '';
      const io = { stdout: (s) => { out += s; }, stderr: () => {}, env: process.env, cwd: process.cwd(), untilStopped: async () => {} };
      const t0 = performance.now();
      const code = await runCli(['audit', 'verify', '--database-url', ${JSON.stringify(url)}, '--trusted-key', ${JSON.stringify(trustedKey)}, '--format', 'json'], io);
      const ms = performance.now() - t0;
      process.stdout.write(JSON.stringify({ code, ms, ok: JSON.parse(out).ok, events: JSON.parse(out).tenants.default?.events, maxRss: process.resourceUsage().maxRSS }));
    `],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const out = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{'))) as { code: number; ms: number; ok: boolean; events: number; maxRss: number };
  if (out.code !== 0 || out.events !== n) throw new Error(`verify failed (${out.code}, ${out.events} events): ${r.stderr}`);
  return { seconds, commandSeconds: out.ms / 1000, n, rssPeakMb: out.maxRss / 1024, ok: out.ok };
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
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, ingest: INGEST, verify: VERIFY, export: EXPORT, query: QUERY, loadavg: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim() };
  log(`load average at start: ${results.loadavg as string}`);

  // PostgreSQL: ingest vs COPY of the same rows. The anchors run before and after the ingests and
  // are averaged, so load that changes during the run weighs on both sides alike.
  const a = await freshPg();
  let database: Database = await openDatabase({ url: a.url });
  await migrate(database.db);
  let repo = createAuditRepo(database);
  const storeEvents = events(INGEST, 0);
  const writerEvents = events(INGEST, INGEST);
  log(`PostgreSQL ingest of ${INGEST} events, one caller through the store…`);
  const pgStore = await ingestStore(repo, storeEvents, 'pg ingest');
  log('raw COPY of the same rows into an unindexed table (jsonb, then text)…');
  const copyJson1 = await copyAnchor(a.url, pgStore.rows, 'json');
  const copyText1 = await copyAnchor(a.url, pgStore.rows, 'body');
  log(`PostgreSQL ingest of ${INGEST} events through the writer, ${CALLERS} callers × ${APPEND}-event appends…`);
  const pgWriter = await ingestWriter(repo, writerEvents);
  const copyJson2 = await copyAnchor(a.url, pgStore.rows, 'json');
  const copyText2 = await copyAnchor(a.url, pgStore.rows, 'body');
  const copySame = await copyAnchor(a.url, pgStore.rows, (await storesBodyAt(a.url)) ? 'body' : 'json', 'audit_events');
  const copyJson = (copyJson1 + copyJson2) / 2;
  const copyText = (copyText1 + copyText2) / 2;
  log('group commit: 64 concurrent callers…');
  const gc = await groupCommit(repo, 64, 100);
  await database.close();
  await a.drop();
  results.postgres = {
    storePerSec: pgStore.perSec, writerPerSec: pgWriter.perSec, writerTransactions: pgWriter.transactions,
    copyJsonPerSec: [copyJson1, copyJson2], copyTextPerSec: [copyText1, copyText2], copySameTablePerSec: copySame, ratioWriterSameTable: pgWriter.perSec / copySame,
    ratioWriterJson: pgWriter.perSec / copyJson, ratioStoreJson: pgStore.perSec / copyJson, ratioWriterText: pgWriter.perSec / copyText, ratioStoreText: pgStore.perSec / copyText,
    groupCommit: gc,
  };

  // PGlite ingest.
  const lite = await openDatabase({ memory: true });
  await migrate(lite.db);
  const liteN = Math.min(INGEST, 100_000);
  log(`PGlite ingest of ${liteN} events…`);
  const liteStore = await ingestStore(createAuditRepo(lite), storeEvents.slice(0, liteN), 'pglite ingest');
  const liteWriter = await ingestWriter(createAuditRepo(lite), writerEvents.slice(0, liteN));
  const liteGc = await groupCommit(createAuditRepo(lite), 64, 50);
  await lite.close();
  results.pglite = { storePerSec: liteStore.perSec, writerPerSec: liteWriter.perSec, groupCommit: liteGc };

  // Verify, export and query on one PostgreSQL database filled once.
  const fill = Math.max(EXPORT, QUERY, VERIFY);
  let ver: Awaited<ReturnType<typeof verifyAll>> | undefined;
  let exp: Awaited<ReturnType<typeof exportAll>> | undefined;
  let q: Awaited<ReturnType<typeof queryLatency>> = {};
  if (fill > 0) {
    const b = await freshPg();
    database = await openDatabase({ url: b.url });
    await migrate(database.db);
    repo = createAuditRepo(database);
    log(`filling ${fill} chained events by COPY (sealed by one checkpoint) for verify, export and query…`);
    const trustedKey = await fillByCopy(b.url, fill);
    const analyze = new pg.Client({ connectionString: b.url });
    await analyze.connect();
    await analyze.query('VACUUM ANALYZE audit_events');
    await analyze.end();
    log('verify (own process)…');
    if (VERIFY > 0) ver = await verifyAll(b.url, trustedKey, fill);
    log('export (JSONL to /dev/null)…');
    if (EXPORT > 0) exp = await exportAll(b.url, fill);
    log('query latency…');
    if (QUERY > 0) q = await queryLatency(repo, 200);
    await database.close();
    if (args.get('keep') === '1') log(`kept the filled database: warden audit verify --database-url ${b.url} --trusted-key ${trustedKey}`);
    else await b.drop();
  }
  results.verify = ver;
  results.export = exp;
  results.query = { events: fill, shapes: q };
  results.loadavgEnd = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();

  const f0 = (x: number) => x.toFixed(0);
  console.log(`\nAudit bench — node ${process.version}, ${new Date().toISOString()}, load average ${results.loadavg as string} → ${results.loadavgEnd as string}`);
  console.log(`| measure | value |\n|---|---|`);
  console.log(`| PostgreSQL ingest, one caller through the store (5 000-event transactions), events/s | ${f0(pgStore.perSec)} |`);
  console.log(`| PostgreSQL ingest through the writer (${CALLERS} callers × ${APPEND}-event appends; ${pgWriter.transactions} transactions), events/s | ${f0(pgWriter.perSec)} |`);
  console.log(`| PostgreSQL raw COPY, unindexed, unlogged, event as jsonb (anchor), events/s | ${f0(copyJson1)} / ${f0(copyJson2)} |`);
  console.log(`| PostgreSQL raw COPY, unindexed, unlogged, event as text, events/s | ${f0(copyText1)} / ${f0(copyText2)} |`);
  console.log(`| PostgreSQL COPY into the audit table's own shape (logged, every index), events/s; ratio writer / it | ${f0(copySame)}; ${(pgWriter.perSec / copySame).toFixed(3)} |`);
  console.log(`| ratio writer / COPY (jsonb; text) | ${(pgWriter.perSec / copyJson).toFixed(3)}; ${(pgWriter.perSec / copyText).toFixed(3)} |`);
  console.log(`| ratio store / COPY (jsonb; text) | ${(pgStore.perSec / copyJson).toFixed(3)}; ${(pgStore.perSec / copyText).toFixed(3)} |`);
  console.log(`| PostgreSQL group commit, 64 callers × 1 event: events/s, ack p50 / p99 ms, transactions | ${f0(gc.perSec)}, ${gc.p50.toFixed(2)} / ${gc.p99.toFixed(2)}, ${gc.batches} |`);
  console.log(`| PGlite ingest, store / writer, events/s | ${f0(liteStore.perSec)} / ${f0(liteWriter.perSec)} |`);
  console.log(`| PGlite group commit, 64 callers: events/s, ack p50 / p99 ms | ${f0(liteGc.perSec)}, ${liteGc.p50.toFixed(2)} / ${liteGc.p99.toFixed(2)} |`);
  if (ver) console.log(`| \`warden audit verify\` of ${ver.n} sealed events (own process): s (command alone), peak RSS MiB | ${ver.seconds.toFixed(1)} (${ver.commandSeconds.toFixed(1)}), ${f0(ver.rssPeakMb)} |`);
  if (exp) {
    console.log(`| \`warden audit export\` JSONL of ${exp.n} events (own process, start-up included): events/s | ${f0(exp.perSec)} |`);
    console.log(`| export process peak RSS MiB | ${f0(exp.rssPeakMb)} |`);
  }
  for (const [name, v] of Object.entries(q)) console.log(`| query over ${fill} events, ${name}: p50 / p99 ms | ${v.p50.toFixed(2)} / ${v.p99.toFixed(2)} |`);
  const { writeFile, mkdir } = await import('node:fs/promises');
  await mkdir('bench/.out', { recursive: true });
  await writeFile('bench/.out/audit.json', JSON.stringify(results, null, 2));
}

await main();
