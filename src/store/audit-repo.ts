import { availableParallelism, loadavg } from 'node:os';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { fieldsOfEvent, NOT_STRING, type BodyFields, type FieldValue } from '../audit/body-fields.js';
import type { ChainHead } from '../audit/chain.js';
import type { ChainAuditor, ChainReader, ChainStore, CheckpointStore } from '../audit/ports.js';
import { EVIDENCE_TYPES } from '../audit/retention-evidence.js';
import type { SignedCheckpoint } from '../audit/signing.js';
import type { ChainStub, ColumnMismatch, StoredEvent, VerifyEntry } from '../audit/verify.js';
import type { AuditPage, AuditQuery, AuditReader } from '../audit/index.js';
import type { AuditEvent } from '../domain/audit-event.js';
import { WardenError } from '../domain/errors.js';
import { parseInstant } from '../domain/instant.js';
import { appendByCopy, HEAD_LOCK, type CopyAppend, type HeadRow } from './audit-copy.js';
import { copiedBatches, unpack, workerBatches } from './audit-chain-copy.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';
import { ensurePartitions, missingMonths } from './audit-partitions.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

/** Largest page `list` serves. */
export const AUDIT_PAGE_MAX = 1000;

const GENESIS = `sha256:${'0'.repeat(64)}`;

/**
 * How each indexed column derives from the event body `e`: `columnsOf` is the same derivation in
 * JS (the writer inserts its values, the verifier compares stored rows with it), and
 * `columnMismatches` compares rows with this one (`tenant_id` is the chain's tenant, which must
 * be the body's). A new column belongs in both, or `test/audit-tamper.test.ts` fails.
 */
const DERIVED: readonly { column: string; expr: string; type: 'text' | 'bigint' | 'uuid' | 'timestamptz' }[] = [
  { column: 'chain_seq', expr: `e->'integrity'->>'seq'`, type: 'bigint' },
  { column: 'id', expr: `e->>'id'`, type: 'uuid' },
  { column: 'time', expr: `e->>'time'`, type: 'timestamptz' },
  { column: 'logged_at', expr: `e->>'loggedAt'`, type: 'timestamptz' },
  { column: 'category', expr: `e->>'category'`, type: 'text' },
  { column: 'type', expr: `e->>'type'`, type: 'text' },
  { column: 'scope', expr: `e->>'scope'`, type: 'text' },
  { column: 'outcome', expr: `e->>'outcome'`, type: 'text' },
  { column: 'action_kind', expr: `e->'action'->>'kind'`, type: 'text' },
  { column: 'agent_id', expr: `coalesce(e->'agent'->>'id', CASE WHEN e->'actor'->>'type' = 'agent' THEN e->'actor'->>'id' END)`, type: 'text' },
  { column: 'principal_id', expr: `e->'onBehalfOf'->>'id'`, type: 'text' },
  { column: 'server', expr: `e->'target'->>'server'`, type: 'text' },
  { column: 'tool', expr: `CASE WHEN e->'target'->>'kind' = 'tool' THEN e->'target'->>'name' END`, type: 'text' },
  { column: 'effect', expr: `e->'decision'->>'effect'`, type: 'text' },
  { column: 'prev_hash', expr: `e->'integrity'->>'prevHash'`, type: 'text' },
];

/**
 * The DERIVED columns of an event, in order, from its body's fields; undefined when one of them
 * would be a non-string member's text, which only the database's own printing of it can say.
 */
function columnsOf(f: BodyFields): (string | null)[] | undefined {
  const agent: FieldValue = f.agentId !== null ? f.agentId : f.actorType === 'agent' ? f.actorId : null;
  const tool: FieldValue = f.targetKind === 'tool' ? f.targetName : null;
  const out = [f.seq, f.id, f.time, f.loggedAt, f.category, f.type, f.scope, f.outcome, f.actionKind, agent, f.principalId, f.server, tool, f.effect, f.prevHash];
  for (const v of out) if (v === NOT_STRING) return undefined;
  return out as (string | null)[];
}

// Rows per INSERT statement.
const INSERT_ROWS = 5000;
// Canonical JSON escapes every control character, so this one never occurs inside a body.
const BODY_SEPARATOR = '\u0001';
const COLUMN_TYPES = ['bigint', 'uuid', 'timestamptz', 'timestamptz', ...Array<string>(11).fill('text'), 'text'];
/**
 * One statement per batch, whatever its size: each column as one array parameter, the bodies as
 * one text split by the server (no quoting of the largest values, no JSON parsed), unnested in order.
 */
const INSERT_TEXT = `INSERT INTO audit_events (tenant_id, ${DERIVED.map((d) => d.column).join(', ')}, hash, body)
  SELECT $1, * FROM unnest(${COLUMN_TYPES.map((t, i) => `$${i + 2}::${t}[]`).join(', ')}, string_to_array($${COLUMN_TYPES.length + 2}, $${COLUMN_TYPES.length + 3}))`;
const HEAD_PARAMS = COLUMN_TYPES.length + 4;
/** The last statement of a batch also moves the chain head: one round trip less per commit. */
const INSERT_AND_MOVE_HEAD = `WITH head AS (UPDATE audit_chain_heads SET seq = $${HEAD_PARAMS}, hash = $${HEAD_PARAMS + 1}, logged_at = $${HEAD_PARAMS + 2}::timestamptz WHERE tenant_id = $1)
  ${INSERT_TEXT}`;

// The same derivation, total: a body edited into nonsense compares unequal instead of failing the query.
const SAFE: Record<(typeof DERIVED)[number]['type'], (expr: string) => string> = {
  text: (x) => x,
  bigint: (x) => `CASE WHEN ${x} ~ '^-?[0-9]{1,18}$' THEN (${x})::bigint END`,
  uuid: (x) => `CASE WHEN ${x} ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN (${x})::uuid END`,
  timestamptz: (x) => `warden_try_timestamptz(${x})`,
};
// A row written before migration 009 keeps its hash in its jsonb body too; a canonical body has none.
const MISMATCHES = [
  { column: 'tenant_id', test: `tenant_id IS DISTINCT FROM e->>'tenantId'` },
  ...DERIVED.map((d) => ({ column: d.column, test: `${d.column} IS DISTINCT FROM ${SAFE[d.type](d.expr)}` })),
  { column: 'hash', test: `(body IS NULL AND hash IS DISTINCT FROM e->'integrity'->>'hash')` },
];
const MISMATCH_LIST = sql.raw(`array_to_string(ARRAY[${MISMATCHES.map((m) => `CASE WHEN ${m.test} THEN '${m.column}' END`).join(', ')}], ',')`);
const ANY_MISMATCH = sql.raw(MISMATCHES.map((m) => `(${m.test})`).join(' OR '));
// Parsed once per row (OFFSET 0 keeps the planner from inlining it into every test); a body that
// is not JSON is left out: verify names it as not matching its hash.
const BODY_JSON = sql.raw(`CASE WHEN body IS NULL THEN event ELSE warden_try_jsonb(body) END`);

/** The event a row holds: its canonical body with the hash put back, or (before migration 009) its jsonb. */
function eventOf(row: { id: string; body: string | null; event: unknown; hash: string }): AuditEvent {
  let e: unknown;
  try {
    e = row.body === null ? row.event : JSON.parse(row.body);
  } catch {
    e = undefined;
  }
  // Only an edit made in the database stores such text; readers refuse it rather than guess.
  if (e === null || typeof e !== 'object' || Array.isArray(e)) {
    throw new WardenError('audit.verify_failed', `the stored audit event \`${row.id}\` is not a JSON object: the log was altered`, { help: 'run `warden audit verify` to see where the log is damaged' });
  }
  const event = e as AuditEvent;
  if (row.body !== null) event.integrity = { ...(event.integrity as { seq: number; prevHash: string }), hash: row.hash };
  return event;
}

/** From this many events a chain is read and checked in a second thread while this one hashes and links. */
const THREAD_MIN_EVENTS = 50_000;

/**
 * Whether a core looks idle: the reader thread only pays when it runs beside this one. On a busy
 * machine it competes for the same cores and costs a tenth more time than reading here.
 */
function spareCore(): boolean {
  return loadavg()[0]! + 1 <= availableParallelism();
}

/** The pool's connection settings, when they can be handed to a thread (a password function cannot). */
function readerConnection(pool: pg.Pool): pg.ClientConfig | undefined {
  const o = pool.options;
  const config: pg.ClientConfig = {};
  for (const key of ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl', 'connectionTimeoutMillis', 'application_name', 'options'] as const) {
    if (o[key] !== undefined) (config as Record<string, unknown>)[key] = o[key];
  }
  try {
    structuredClone(config);
    return config;
  } catch {
    return undefined;
  }
}

/** Rows the reader could not confirm beyond this many are checked by one pass over the whole chain. */
const SUSPECTS_MAX = 10_000;

/** Everything the audit log offers over one database. */
export type AuditRepo = AuditReader & ChainStore & ChainReader & ChainAuditor & CheckpointStore & {
  /** Streams every event matching a query, newest first (`oldestFirst`: in time order), in keyset batches: constant memory. */
  stream(query: Omit<AuditQuery, 'limit' | 'cursor'>, opts?: { batchSize?: number; oldestFirst?: boolean }): AsyncIterable<AuditEvent>;
  count(query: Omit<AuditQuery, 'limit' | 'cursor'>): Promise<number>;
};

/**
 * The audit log in the database: chained, append-only writes and newest-first keyset pages.
 * @example
 * const audit = createAuditRepo(database);
 * const { events, nextCursor } = await audit.list({ scope: 'acme/platform', limit: 50 });
 */
export function createAuditRepo(database: { db: Kysely<Schema>; pool?: pg.Pool | undefined }): AuditRepo {
  const { db, pool } = database;
  // Partitions this process has seen exist; creating one is rare (once a month) and serialized.
  const partitions = new Set<string>();
  // Next month's partition is made ahead, in the background and outside any chain lock: attaching
  // one waits for every open reader of the default partition, and made under a tenant's head lock
  // (the fallback below) that wait stalls the tenant's appends and queues every reader behind it.
  let ahead: Promise<void> | undefined;
  const AHEAD_MS = 3 * 86_400_000;
  function partitionAhead(): void {
    if (ahead) return;
    const now = Date.now();
    const times = [new Date(now).toISOString(), new Date(now + AHEAD_MS).toISOString()];
    if (missingMonths(times, partitions).length === 0) return;
    ahead = db
      .transaction()
      .execute(async (trx) => {
        // Gives up rather than queue readers behind it; the next append tries again.
        await sql`SET LOCAL lock_timeout = '2s'`.execute(trx);
        return ensurePartitions(trx, times, partitions);
      })
      .then(
        (created) => {
          for (const p of created) partitions.add(p);
        },
        () => {},
      )
      .finally(() => {
        ahead = undefined;
      });
  }
  // On PostgreSQL the rows go in by COPY; PGlite takes the INSERT below.
  const copy: CopyAppend = {
    columns: [...DERIVED.map((d) => d.column), 'hash', 'body'],
    async beforeCopy(events) {
      // Rare (a new month): its own transaction on another connection, committed before the rows
      // go in. An empty partition left by a batch that then fails is harmless.
      const times = events.map((e) => e.time);
      if (missingMonths(times, partitions).length === 0) return;
      const created = await db.transaction().execute((trx) => ensurePartitions(trx, times, partitions));
      for (const p of created) partitions.add(p);
    },
    row(e, body) {
      const row = columnsOf(fieldsOfEvent(e));
      if (!row) throw new TypeError(`audit event \`${String(e.id)}\` has a field of the wrong type where an indexed column derives from it`);
      row.push(e.integrity!.hash, body);
      return row;
    },
  };
  const repo: AuditRepo = {
    async appendChained(tenantId, build) {
      partitionAhead();
      if (pool) return appendByCopy(pool, tenantId, GENESIS, build, copy);
      let created: string[] = [];
      await db.transaction().execute(async (trx) => {
        const { rows } = await trx.executeQuery<HeadRow>(CompiledQuery.raw(HEAD_LOCK, [tenantId, GENESIS]));
        const row = rows[0]!;
        const { events, bodies, head } = build({ seq: Number(row.seq), hash: row.hash, loggedAt: row.logged_at ?? undefined });
        if (events.length === 0) return;
        created = await ensurePartitions(trx, events.map((e) => e.time), partitions);
        // Text the writer already has: the server parses no JSON, and the body is stored as the
        // exact text the hash is over.
        for (let at = 0; at < events.length; at += INSERT_ROWS) {
          const end = Math.min(at + INSERT_ROWS, events.length);
          const columns: (string | null)[][] = COLUMN_TYPES.map(() => new Array<string | null>(end - at));
          for (let i = at; i < end; i++) {
            const e = events[i]!;
            const row = columnsOf(fieldsOfEvent(e));
            if (!row) throw new TypeError(`audit event \`${String(e.id)}\` has a field of the wrong type where an indexed column derives from it`);
            if (bodies[i]!.includes(BODY_SEPARATOR)) throw new TypeError(`audit event \`${String(e.id)}\` has a body that is not canonical JSON`);
            for (let c = 0; c < row.length; c++) columns[c]![i - at] = row[c]!;
            columns[row.length]![i - at] = e.integrity!.hash;
          }
          const text = end - at === bodies.length ? bodies.join(BODY_SEPARATOR) : bodies.slice(at, end).join(BODY_SEPARATOR);
          const params: unknown[] = [tenantId, ...columns, text, BODY_SEPARATOR];
          if (end === events.length) params.push(head.seq, head.hash, head.loggedAt ?? null);
          await trx.executeQuery(CompiledQuery.raw(end === events.length ? INSERT_AND_MOVE_HEAD : INSERT_TEXT, params));
        }
      });
      for (const p of created) partitions.add(p);
    },

    async head(tenantId): Promise<ChainHead> {
      const { rows } = await sql<{ seq: string | number; hash: string; logged_at: string | null }>`
        SELECT seq, hash, to_char(logged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS logged_at
        FROM audit_chain_heads WHERE tenant_id = ${tenantId}`.execute(db);
      const r = rows[0];
      return r ? { seq: Number(r.seq), hash: r.hash, loggedAt: r.logged_at ?? undefined } : { seq: 0, hash: GENESIS, loggedAt: undefined };
    },

    async *streamChain(tenantId, opts = {}) {
      for await (const rows of chainRows(db, tenantId, opts.fromSeq, opts.toSeq, opts.batchSize ?? 2000, false)) {
        for (const r of rows) yield r.stub ? stubOf(tenantId, r) : eventOf(r);
      }
    },

    storedChain(tenantId, opts = {}) {
      // Rows whose columns the reader could not confirm against their body, by their chain_seq column.
      const suspects: string[] = [];
      let complete = false;
      const readRow = (r: ChainRow) => (r.body === null ? legacyEntry(tenantId, r) : storedEntry(tenantId, r as ChainRow & { body: string }));
      // PostgreSQL: the events by one binary COPY, merged with the stubs read by keyset.
      async function* copied(p: pg.Pool): AsyncIterable<readonly VerifyEntry[]> {
        const stubs = stubBatches(db, tenantId, 0, Number.MAX_SAFE_INTEGER, opts.batchSize ?? 2000);
        let batch: ChainRow[] = [];
        let at = 0;
        let more = true;
        // After it, a stub is at `at` unless none is left: the merge below awaits only for a new batch of stubs.
        const fill = async () => {
          while (at === batch.length && more) {
            const n = await stubs.next();
            if (n.done) more = false;
            else [batch, at] = [n.value, 0];
          }
        };
        await fill();
        const thread = opts.thread ?? (spareCore() && (await repo.head(tenantId)).seq >= THREAD_MIN_EVENTS);
        const connection = thread ? readerConnection(p) : undefined;
        for await (const packed of connection ? workerBatches(connection, tenantId) : copiedBatches(p, tenantId)) {
          const { entries: events, seqs } = unpack(packed, tenantId, readRow, suspects);
          if (at === batch.length) {
            yield events;
            continue;
          }
          // Stubs numbered before an event come first; equal numbers (only after tampering) yield the event first, as mergeBySeq does.
          const out: VerifyEntry[] = [];
          for (let k = 0; k < events.length; k++) {
            while (at < batch.length && Number(batch[at]!.seq) < seqs[k]!) {
              out.push(stubOf(tenantId, batch[at++]!));
              await fill();
            }
            out.push(events[k]!);
          }
          yield out;
        }
        while (at < batch.length) {
          yield batch.slice(at).map((r) => stubOf(tenantId, r));
          at = batch.length;
          await fill();
        }
        complete = true;
      }
      async function* entries(): AsyncIterable<VerifyEntry | readonly VerifyEntry[]> {
        if (pool) {
          yield* copied(pool);
          return;
        }
        for await (const rows of chainRows(db, tenantId, undefined, undefined, opts.batchSize ?? 2000, true)) {
          for (const r of rows) {
            if (r.stub) {
              yield stubOf(tenantId, r);
              continue;
            }
            const { entry, confirmed } = readRow(r);
            if (!confirmed) suspects.push(r.seq);
            yield entry;
          }
        }
        complete = true;
      }
      return {
        entries: entries(),
        columnMismatches: async (limit) => {
          if (complete && suspects.length === 0) return [];
          // The database's own derivation decides, for the rows the reader could not confirm.
          if (complete && suspects.length <= SUSPECTS_MAX) return mismatchesOf(db, tenantId, limit, suspects);
          return mismatchesOf(db, tenantId, limit, undefined);
        },
      };
    },

    async evidence(tenantId) {
      const types = sql.join([...EVIDENCE_TYPES].map((t) => sql`${t}`));
      const { rows } = await sql<{ id: string; body: string | null; event: unknown; hash: string }>`
        SELECT id::text AS id, body, event, hash FROM audit_events WHERE tenant_id = ${tenantId} AND category = 'audit_system' AND type IN (${types}) ORDER BY chain_seq`.execute(db);
      return rows.map(eventOf);
    },

    columnMismatches(tenantId, limit) {
      return mismatchesOf(db, tenantId, limit, undefined);
    },

    async tenants() {
      const { rows } = await sql<{ tenant_id: string }>`SELECT tenant_id FROM audit_chain_heads ORDER BY tenant_id`.execute(db);
      return rows.map((r) => r.tenant_id);
    },

    async saveCheckpoint(cp: SignedCheckpoint) {
      await sql`INSERT INTO audit_checkpoints (tenant_id, from_seq, to_seq, root, last_hash, created_at, key_id, public_key, signature)
                VALUES (${cp.tenantId}, ${cp.fromSeq}, ${cp.toSeq}, ${cp.root}, ${cp.lastHash}, ${cp.createdAt}::timestamptz, ${cp.keyId}, ${cp.publicKey}, ${cp.signature})`.execute(db);
    },

    async listCheckpoints(tenantId) {
      const { rows } = await sql<{ from_seq: string | number; to_seq: string | number; root: string; last_hash: string; created_at: string; key_id: string; public_key: string; signature: string }>`
        SELECT from_seq, to_seq, root, last_hash, key_id, public_key, signature,
               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
        FROM audit_checkpoints WHERE tenant_id = ${tenantId} ORDER BY from_seq`.execute(db);
      return rows.map((r) => ({
        tenantId,
        fromSeq: Number(r.from_seq),
        toSeq: Number(r.to_seq),
        root: r.root,
        lastHash: r.last_hash,
        createdAt: r.created_at,
        keyId: r.key_id,
        publicKey: r.public_key,
        signature: r.signature,
      }));
    },

    async list(query: AuditQuery): Promise<AuditPage> {
      checkQuery(query);
      const after = query.cursor === undefined ? undefined : decodeAuditCursor(query.cursor);
      const rows = await underTenant(db, query.tenant, (q) => filtered(q, query, after, query.limit + 1));
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        events: page.map(eventOf),
        nextCursor: rows.length > query.limit && last ? encodeAuditCursor({ time: last.cursor_time, id: last.id }) : null,
      };
    },

    async *stream(query, opts = {}) {
      checkQuery({ ...query, limit: 1 });
      const size = opts.batchSize ?? 1000;
      let after: { time: string; id: string } | undefined;
      for (;;) {
        const rows = await underTenant(db, query.tenant, (q) => filtered(q, query, after, size, opts.oldestFirst ? 'asc' : 'desc'));
        for (const r of rows) yield eventOf(r);
        if (rows.length < size) return;
        const last = rows[rows.length - 1]!;
        after = { time: last.cursor_time, id: last.id };
      }
    },

    async count(query) {
      checkQuery({ ...query, limit: 1 });
      const row = await underTenant(db, query.tenant, (q) => applyFilters(q.selectFrom('audit_events').select(sql<string>`count(*)`.as('n')), query).executeTakeFirstOrThrow());
      return Number(row.n);
    },
  };
  return repo;
}

/** One row of a chain as read back: an event (canonical `body`, or jsonb `event` before migration 009) or a stub. */
interface ChainRow {
  stub: boolean;
  seq: string;
  id: string;
  prev_hash: string;
  hash: string;
  body: string | null;
  event: unknown;
  removed_by: string | null;
  category: string | null;
  /** UTC, microseconds: `2026-11-24T12:00:00.000000Z`. */
  time: string | null;
  scope: string | null;
  // Only with the columns (verification).
  logged_at?: string | null;
  type?: string | null;
  outcome?: string | null;
  action_kind?: string | null;
  agent_id?: string | null;
  principal_id?: string | null;
  server?: string | null;
  tool?: string | null;
  effect?: string | null;
}

const US_TIME = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
const EVENT_COLUMNS = sql.raw(`, type, outcome, action_kind, agent_id, principal_id, server, tool, effect`);

/**
 * Batches of one table's rows in chain order, by keyset; the next batch is asked for before this
 * one is handed out, so reading overlaps the consumer's work.
 */
async function* keyset(fetch: (after: number) => Promise<ChainRow[]>, from: number, size: number): AsyncGenerator<ChainRow[]> {
  const ask = (after: number) => {
    const p = fetch(after);
    // Awaited below; a consumer that stops early must not leave it rejecting unhandled.
    p.catch(() => undefined);
    return p;
  };
  let next = ask(from);
  for (;;) {
    const rows = await next;
    if (rows.length === size) next = ask(Number(rows[rows.length - 1]!.seq));
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
  }
}

/**
 * A tenant's chain in sequence order, in batches: stored events and retention stubs, each table
 * read on its own primary key (one query over both is planned as a sort of everything after the
 * cursor) and merged here. With `columns`, each event also carries its indexed columns as text.
 */
async function* chainRows(db: Kysely<Schema>, tenantId: string, fromSeq: number | undefined, toSeq: number | undefined, size: number, columns: boolean): AsyncGenerator<ChainRow[]> {
  const to = toSeq ?? Number.MAX_SAFE_INTEGER;
  const from = (fromSeq ?? 1) - 1;
  const events = keyset(
    (after) =>
      sql<ChainRow>`
        SELECT false AS stub, chain_seq::text AS seq, id::text AS id, prev_hash, hash, body, event, NULL AS removed_by,
               ${columns ? sql`category, ${US_TIME('time')} AS time, scope, ${US_TIME('logged_at')} AS logged_at${EVENT_COLUMNS}` : sql`NULL AS category, NULL AS time, NULL AS scope`}
        FROM audit_events WHERE tenant_id = ${tenantId} AND chain_seq > ${after} AND chain_seq <= ${to}
        ORDER BY chain_seq LIMIT ${size}`.execute(db).then((r) => r.rows),
    from,
    size,
  );
  yield* mergeBySeq(events, stubBatches(db, tenantId, from, to, size));
}

/** A tenant's retention stubs with `after < chain_seq <= to`, in batches in sequence order. */
function stubBatches(db: Kysely<Schema>, tenantId: string, after: number, to: number, size: number): AsyncGenerator<ChainRow[]> {
  return keyset(
    (from) =>
      sql<ChainRow>`
        SELECT true AS stub, chain_seq::text AS seq, id::text AS id, prev_hash, hash, NULL AS body, NULL AS event, removed_by::text AS removed_by,
               category, ${US_TIME('time')} AS time, scope
        FROM audit_tombstones WHERE tenant_id = ${tenantId} AND chain_seq > ${from} AND chain_seq <= ${to}
        ORDER BY chain_seq LIMIT ${size}`.execute(db).then((r) => r.rows),
    after,
    size,
  );
}

/** Two batch streams, each in sequence order, as one; equal numbers (only after tampering) come from `a` first. */
async function* mergeBySeq(a: AsyncIterator<ChainRow[]>, b: AsyncIterator<ChainRow[]>): AsyncGenerator<ChainRow[]> {
  let x: ChainRow[] | undefined = [];
  let y: ChainRow[] | undefined = [];
  let i = 0;
  let j = 0;
  for (;;) {
    if (x && i === x.length) [x, i] = [(await a.next()).value ?? undefined, 0];
    if (y && j === y.length) [y, j] = [(await b.next()).value ?? undefined, 0];
    if (!x && !y) return;
    if (!y) {
      yield i === 0 ? x! : x!.slice(i);
      i = x!.length;
      continue;
    }
    if (!x) {
      yield j === 0 ? y : y.slice(j);
      j = y.length;
      continue;
    }
    // Both have rows: hand out everything up to where one batch ends, then refill that one.
    const out: ChainRow[] = [];
    while (i < x.length && j < y.length) out.push(Number(x[i]!.seq) <= Number(y[j]!.seq) ? x[i++]! : y[j++]!);
    yield out;
  }
}

function stubOf(tenantId: string, r: ChainRow): ChainStub {
  const stub: ChainStub = { stub: true, id: r.id, tenantId, integrity: { seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash } };
  if (r.removed_by !== null) stub.removedBy = r.removed_by;
  if (r.category !== null) stub.category = r.category;
  if (r.time !== null) stub.time = r.time;
  if (r.scope !== null) stub.scope = r.scope;
  return stub;
}

const text = (v: FieldValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * A canonical row as the verifier reads it: its body as stored (to be hashed), the fields every
 * reader parses from it, and whether every indexed column was confirmed equal to the body's.
 */
function storedEntry(tenantId: string, r: ChainRow & { body: string }): { entry: StoredEvent; confirmed: boolean } {
  let f: BodyFields | undefined;
  try {
    const o: unknown = JSON.parse(r.body);
    if (o !== null && typeof o === 'object' && !Array.isArray(o)) f = fieldsOfEvent(o as AuditEvent);
  } catch {
    f = undefined;
  }
  const seq = f && typeof f.seq === 'string' && /^[0-9]{1,15}$/.test(f.seq) ? Number(f.seq) : undefined;
  const prevHash = text(f?.prevHash);
  const readable = seq !== undefined && prevHash !== undefined;
  const entry: StoredEvent = {
    stored: true,
    body: r.body,
    id: text(f?.id) ?? r.id,
    tenantId,
    integrity: readable ? { seq, prevHash, hash: r.hash } : { seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash },
    type: text(f?.type),
    loggedAt: text(f?.loggedAt),
    time: text(f?.time),
  };
  if (!readable) entry.unreadable = true;
  return { entry, confirmed: f !== undefined && sameColumns(tenantId, r, f) };
}

/** A row written before migration 009: its jsonb event, as the verifier always read it. */
function legacyEntry(tenantId: string, r: ChainRow): { entry: AuditEvent | StoredEvent; confirmed: boolean } {
  const e = r.event as AuditEvent | null;
  if (e === null || typeof e !== 'object' || Array.isArray(e)) {
    // No body at all (the constraint that forbids it was dropped): nothing to hash, named as changed.
    return { entry: { stored: true, body: '', id: r.id, tenantId, integrity: { seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash }, type: undefined, loggedAt: undefined, time: undefined, unreadable: true }, confirmed: true };
  }
  return { entry: e, confirmed: sameColumns(tenantId, r, fieldsOfEvent(e)) && e.integrity?.hash === r.hash };
}

/**
 * Whether every indexed column of a row equals what DERIVED makes of its body, by string
 * equality on forms both sides print alike; false also when unsure (a time not in the writer's
 * form, say): the database then decides (`mismatchesOf`).
 */
function sameColumns(tenantId: string, r: ChainRow, f: BodyFields): boolean {
  const c = columnsOf(f);
  return (
    c !== undefined &&
    f.tenantId === tenantId &&
    c[0] === r.seq &&
    c[1] === r.id &&
    sameInstant(c[2]!, r.time) &&
    sameInstant(c[3]!, r.logged_at ?? null) &&
    c[4] === r.category &&
    c[5] === r.type &&
    c[6] === r.scope &&
    c[7] === r.outcome &&
    c[8] === r.action_kind &&
    c[9] === r.agent_id &&
    c[10] === r.principal_id &&
    c[11] === r.server &&
    c[12] === r.tool &&
    c[13] === r.effect &&
    c[14] === r.prev_hash
  );
}

const ISO_MS = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
const ISO_US = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/;

/** A body's time (as the writer prints it: UTC, milli- or microseconds) against a column printed by US_TIME. */
function sameInstant(body: string | null, column: string | null): boolean {
  if (body === null || column === null) return false;
  if (ISO_MS.test(body)) return `${body.slice(0, 23)}000Z` === column;
  return ISO_US.test(body) && body === column;
}

/** Rows whose columns differ from their body by the database's derivation: of a whole chain, or only the given chain_seq values. */
async function mismatchesOf(db: Kysely<Schema>, tenantId: string, limit: number, only: readonly string[] | undefined): Promise<ColumnMismatch[]> {
  const among = only === undefined ? sql`` : sql`AND chain_seq = ANY(string_to_array(${only.join(',')}, ',')::bigint[])`;
  // Named by the body's sequence number: the chain_seq column may be the one that was edited.
  const { rows } = await sql<{ seq: string | null; chain_seq: string | number; bad: string }>`
    SELECT chain_seq, e->'integrity'->>'seq' AS seq, ${MISMATCH_LIST} AS bad
    FROM (SELECT *, ${BODY_JSON} AS e FROM audit_events WHERE tenant_id = ${tenantId} ${among} OFFSET 0) AS r
    WHERE e IS NOT NULL AND (${ANY_MISMATCH}) ORDER BY chain_seq LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({ seq: Number(r.seq !== null && /^\d+$/.test(r.seq) ? r.seq : r.chain_seq), columns: r.bad.split(',') }));
}

// Kysely's builder types are deep; the filters only add WHERE clauses, so a structural type is enough.
interface Filterable<T> {
  where(expr: ReturnType<typeof sql<boolean>>): T;
  where(col: 'agent_id' | 'tool' | 'effect' | 'principal_id' | 'category' | 'type' | 'outcome', op: '=', value: string): T;
}

function applyFilters<T extends Filterable<T>>(select: T, query: Omit<AuditQuery, 'limit' | 'cursor'>): T {
  let s = select;
  // Compared as text, so an id that is not a UUID matches nothing rather than failing the cast.
  if (query.id !== undefined) s = s.where(sql<boolean>`id::text = ${query.id.toLowerCase()}`);
  if (query.from !== undefined) s = s.where(sql<boolean>`time >= ${query.from}::timestamptz`);
  if (query.to !== undefined) s = s.where(sql<boolean>`time < ${query.to}::timestamptz`);
  if (query.agent !== undefined) s = s.where('agent_id', '=', query.agent);
  if (query.principal !== undefined) s = s.where('principal_id', '=', query.principal);
  if (query.tool !== undefined) s = s.where('tool', '=', query.tool);
  if (query.effect !== undefined) s = s.where('effect', '=', query.effect);
  if (query.category !== undefined) s = s.where('category', '=', query.category);
  if (query.type !== undefined) s = s.where('type', '=', query.type);
  if (query.outcome !== undefined) s = s.where('outcome', '=', query.outcome);
  if (query.tenant !== undefined) s = s.where(sql<boolean>`tenant_id = ${query.tenant}`);
  if (query.scope !== undefined) s = s.where(subtree(query.scope));
  if (query.within !== undefined) {
    s = query.within.length === 0 ? s.where(sql<boolean>`false`) : s.where(sql<boolean>`(${sql.join(query.within.map(subtree), sql` OR `)})`);
  }
  if (query.text !== undefined) {
    // Free text over the whole event; other filters narrow the rows first.
    const pattern = `%${escapeLike(query.text)}%`;
    // The canonical text is searched as stored; without bodies, the event less its captured bodies.
    s = query.textWithoutBodies
      ? s.where(sql<boolean>`(coalesce(body::jsonb, event) #- '{payload,args}' #- '{payload,result}')::text ILIKE ${pattern} ESCAPE '\\'`)
      : s.where(sql<boolean>`coalesce(body, event::text) ILIKE ${pattern} ESCAPE '\\'`);
  }
  return s;
}

async function filtered(db: Kysely<Schema>, query: Omit<AuditQuery, 'limit' | 'cursor'>, after: { time: string; id: string } | undefined, limit: number, order: 'asc' | 'desc' = 'desc') {
  let select = db
    .selectFrom('audit_events')
    .select([
      'id',
      'body',
      'event',
      'hash',
      // Text at full precision in UTC: a JS Date would drop microseconds and break the keyset.
      sql<string>`to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_time'),
    ])
    .orderBy('time', order)
    .orderBy('id', order)
    .limit(limit);
  select = applyFilters(select as never, query) as typeof select;
  if (after) select = select.where(order === 'desc' ? sql<boolean>`(time, id) < (${after.time}::timestamptz, ${after.id}::uuid)` : sql<boolean>`(time, id) > (${after.time}::timestamptz, ${after.id}::uuid)`);
  return select.execute();
}

function checkQuery(query: AuditQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > AUDIT_PAGE_MAX) {
    throw new WardenError('request.invalid', `\`limit\` must be a whole number from 1 to ${AUDIT_PAGE_MAX}, got \`${query.limit}\``);
  }
  for (const key of ['from', 'to'] as const) {
    const value = query[key];
    if (value !== undefined && parseInstant(value) === undefined) {
      throw new WardenError('request.invalid', `\`${key}\` must be an RFC 3339 date-time, got \`${value}\``, {
        help: 'for example `2026-11-24T22:00:00Z`',
      });
    }
  }
}

/** Runs a read for one tenant under row-level security (src/store/tenant-scope.ts); a read across tenants as is. */
function underTenant<T>(db: Kysely<Schema>, tenant: string | undefined, fn: (q: Kysely<Schema>) => Promise<T>): Promise<T> {
  return tenant === undefined ? fn(db) : withTenant(db, tenant, fn);
}

/** A scope and everything below it. */
function subtree(scope: string) {
  const below = `${escapeLike(scope)}/%`;
  return sql<boolean>`(scope = ${scope} OR scope LIKE ${below} ESCAPE '\\')`;
}

/** Escapes LIKE's wildcards so a scope matches itself literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
