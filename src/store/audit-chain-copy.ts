import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ABSENT, BF, BODY_AT, BODY_KIND, ESCAPED, NUMBER, scanBody, STRING } from '../audit/body-scan.js';
import type { AuditEvent } from '../domain/audit-event.js';
import type { StoredEvent, VerifyEntry } from '../audit/verify.js';
import { WardenError } from '../domain/errors.js';

/**
 * A tenant's stored events in chain order for `warden audit verify` on PostgreSQL, by one
 * `COPY (SELECT …) TO STDOUT (FORMAT binary)`: no row objects, no per-column strings, and each
 * body's bytes hashed as sent. A row's indexed columns are compared with its body byte for byte
 * where `scanBody` reads the body with certainty; any other row is decoded and read as before.
 */

/** A row decoded to text, as the keyset reader returns it (`ChainRow` in audit-repo.ts). */
export interface CopiedRow {
  stub: false;
  seq: string;
  id: string;
  prev_hash: string;
  hash: string;
  body: string | null;
  event: unknown;
  removed_by: null;
  category: string | null;
  time: string | null;
  scope: string | null;
  logged_at: string | null;
  type: string | null;
  outcome: string | null;
  action_kind: string | null;
  agent_id: string | null;
  principal_id: string | null;
  server: string | null;
  tool: string | null;
  effect: string | null;
}

/** How the keyset reader reads a decoded row: its entry, and whether its columns were confirmed. */
export type ReadRow = (row: CopiedRow) => { entry: VerifyEntry; confirmed: boolean };

// The copied columns, in order; times as the keyset reader prints them, so a slow row reads alike.
const US_TIME = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const COLUMNS = [
  // Named apart from the column: ORDER BY chain_seq would sort by this text.
  'chain_seq::text AS seq',
  'id::text',
  'prev_hash',
  'hash',
  'body',
  'CASE WHEN body IS NULL THEN event::text END',
  'category',
  US_TIME('time'),
  'scope',
  US_TIME('logged_at'),
  'type',
  'outcome',
  'action_kind',
  'agent_id',
  'principal_id',
  'server',
  'tool',
  'effect',
];
const C = { seq: 0, id: 1, prevHash: 2, hash: 3, body: 4, event: 5, category: 6, time: 7, scope: 8, loggedAt: 9, type: 10, outcome: 11, actionKind: 12, agentId: 13, principalId: 14, server: 15, tool: 16, effect: 17 } as const;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The tuples of a binary COPY stream, from chunks cut anywhere: each tuple's fields as offsets
 * into one buffer (`at[2f]` the start, `at[2f + 1]` the length, -1 for NULL), valid during `row`.
 */
export class CopyTuples {
  /** The stream's trailer was read: every tuple came. */
  ended = false;
  private rest: Buffer | undefined;
  private header = false;
  private readonly at: Int32Array;

  constructor(private readonly fields: number) {
    this.at = new Int32Array(2 * fields);
  }

  push(chunk: Buffer, row: (buf: Buffer, at: Int32Array) => void): void {
    // A tuple cut by the chunk's end waits for the next chunk.
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let i = 0;
    if (!this.header) {
      if (buf.length < 19) {
        this.rest = buf;
        return;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw unreadable('it does not start as binary COPY does');
      const ext = buf.readInt32BE(15);
      if (buf.length < 19 + ext) {
        this.rest = buf;
        return;
      }
      i = 19 + ext;
      this.header = true;
    }
    const at = this.at;
    const n = this.fields;
    while (!this.ended && i + 2 <= buf.length) {
      const count = buf.readInt16BE(i);
      if (count === -1) {
        this.ended = true;
        i += 2;
        break;
      }
      if (count !== n) throw unreadable(`a row has ${count} columns, not ${n}`);
      let j = i + 2;
      let whole = true;
      for (let f = 0; f < n; f++) {
        if (j + 4 > buf.length) {
          whole = false;
          break;
        }
        const len = buf.readInt32BE(j);
        if (len < -1) throw unreadable(`a column has length ${len}`);
        j += 4;
        at[2 * f] = j;
        at[2 * f + 1] = len;
        if (len > 0) j += len;
        if (j > buf.length) {
          whole = false;
          break;
        }
      }
      if (!whole) break;
      row(buf, at);
      i = j;
    }
    if (this.ended && i < buf.length) throw unreadable('data follows its end');
    this.rest = i < buf.length ? buf.subarray(i) : undefined;
  }
}

function unreadable(why: string): WardenError {
  return new WardenError('store.unavailable', `the database's COPY of the audit log could not be read: ${why}`, { help: 'run `warden audit verify` again; if it fails the same way, report it' });
}

/** One batch of the copied chain: entries, their chain_seq columns, and the rows not confirmed. */
export interface CopiedBatch {
  entries: VerifyEntry[];
  seqs: number[];
}

/**
 * A tenant's stored events (not stubs) with `chain_seq > 0`, in chain_seq order, a socket chunk
 * at a time. The chain_seq column of every row whose columns were not confirmed against its
 * body goes to `suspects`. Holds one pooled connection while read; it is closed, not pooled
 * again, when the caller stops early or the COPY fails.
 */
export async function* copiedChain(pool: pg.Pool, tenantId: string, slow: ReadRow, suspects: string[]): AsyncGenerator<CopiedBatch> {
  const client = await pool.connect();
  let finished = false;
  try {
    const text = `COPY (SELECT ${COLUMNS.join(', ')} FROM audit_events WHERE tenant_id = ${client.escapeLiteral(tenantId)} AND chain_seq > 0 ORDER BY chain_seq) TO STDOUT (FORMAT binary)`;
    const stream = client.query(copyTo(text));
    const tuples = new CopyTuples(COLUMNS.length);
    const tenant = Buffer.from(tenantId, 'utf8');
    let batch: CopiedBatch = { entries: [], seqs: [] };
    const row = (buf: Buffer, at: Int32Array) => {
      const seq = seqOf(buf, at[2 * C.seq]!, at[2 * C.seq + 1]!);
      let entry: VerifyEntry | undefined = fastEntry(buf, at, tenantId, tenant);
      if (entry === undefined) {
        const read = slow(decoded(buf, at));
        entry = read.entry;
        if (!read.confirmed) suspects.push(textAt(buf, at, C.seq)!);
      } else if (!lastConfirmed) suspects.push(textAt(buf, at, C.seq)!);
      batch.entries.push(entry);
      batch.seqs.push(seq);
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      tuples.push(chunk, row);
      if (batch.entries.length > 0) {
        yield batch;
        batch = { entries: [], seqs: [] };
      }
    }
    if (!tuples.ended) throw unreadable('it ended before its trailer');
    finished = true;
  } finally {
    // A COPY left unread keeps the connection busy: it is closed instead of pooled.
    client.release(!finished);
  }
}

function seqOf(buf: Buffer, start: number, len: number): number {
  let n = 0;
  for (let i = start; i < start + len; i++) n = n * 10 + (buf[i]! - 0x30);
  return n;
}

function textAt(buf: Buffer, at: Int32Array, column: number): string | null {
  const len = at[2 * column + 1]!;
  return len < 0 ? null : buf.toString('utf8', at[2 * column]!, at[2 * column]! + len);
}

function decoded(buf: Buffer, at: Int32Array): CopiedRow {
  const t = (c: number) => textAt(buf, at, c);
  const event = t(C.event);
  return {
    stub: false,
    seq: t(C.seq)!,
    id: t(C.id)!,
    prev_hash: t(C.prevHash)!,
    hash: t(C.hash)!,
    body: t(C.body),
    // As the driver hands a jsonb column over: parsed.
    event: event === null ? null : (JSON.parse(event) as AuditEvent),
    removed_by: null,
    category: t(C.category),
    time: t(C.time),
    scope: t(C.scope),
    logged_at: t(C.loggedAt),
    type: t(C.type),
    outcome: t(C.outcome),
    action_kind: t(C.actionKind),
    agent_id: t(C.agentId),
    principal_id: t(C.principalId),
    server: t(C.server),
    tool: t(C.tool),
    effect: t(C.effect),
  };
}

// Whether the last `fastEntry` confirmed its row's columns.
let lastConfirmed = false;

/**
 * A row read from its bytes: its entry, with `lastConfirmed` set when every indexed column equals
 * what the body says, by the rules `sameColumns` in audit-repo.ts applies to text; undefined when
 * the body is not read with certainty or is not a readable event (the caller reads it as text).
 */
function fastEntry(buf: Buffer, at: Int32Array, tenantId: string, tenant: Buffer): StoredEvent | undefined {
  const start = at[2 * C.body]!;
  const len = at[2 * C.body + 1]!;
  if (len < 0 || !scanBody(buf, start, start + len)) return undefined;
  for (let f = 0; f < BODY_KIND.length; f++) if (BODY_KIND[f] === ESCAPED) return undefined;
  // Readable: a whole-number seq as canonical JSON prints it, and a prevHash string.
  if (BODY_KIND[BF.seq] !== NUMBER || BODY_KIND[BF.prevHash] !== STRING) return undefined;
  const s0 = BODY_AT[2 * BF.seq]!;
  const s1 = BODY_AT[2 * BF.seq + 1]!;
  if (s1 - s0 > 15 || (buf[s0] === 0x30 && s1 - s0 > 1)) return undefined;
  let seq = 0;
  for (let i = s0; i < s1; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    seq = seq * 10 + d;
  }
  lastConfirmed =
    BODY_KIND[BF.tenantId] === STRING &&
    sameBytes(buf, BODY_AT[2 * BF.tenantId]!, BODY_AT[2 * BF.tenantId + 1]!, tenant, 0, tenant.length) &&
    sameBytes(buf, s0, s1, buf, at[2 * C.seq]!, at[2 * C.seq]! + at[2 * C.seq + 1]!) &&
    same(buf, at, BF.id, C.id) &&
    sameInstant(buf, at, BF.time, C.time) &&
    sameInstant(buf, at, BF.loggedAt, C.loggedAt) &&
    same(buf, at, BF.category, C.category) &&
    same(buf, at, BF.type, C.type) &&
    same(buf, at, BF.scope, C.scope) &&
    same(buf, at, BF.outcome, C.outcome) &&
    same(buf, at, BF.actionKind, C.actionKind) &&
    sameAgent(buf, at) &&
    same(buf, at, BF.principalId, C.principalId) &&
    same(buf, at, BF.server, C.server) &&
    (BODY_KIND[BF.targetKind] === STRING && isWord(buf, BF.targetKind, TOOL) ? same(buf, at, BF.targetName, C.tool) : at[2 * C.tool + 1] === -1) &&
    same(buf, at, BF.effect, C.effect) &&
    same(buf, at, BF.prevHash, C.prevHash);
  return {
    stored: true,
    body: buf.subarray(start, start + len),
    id: BODY_KIND[BF.id] === STRING ? fieldText(buf, BF.id) : textAt(buf, at, C.id)!,
    tenantId,
    integrity: { seq, prevHash: fieldText(buf, BF.prevHash), hash: textAt(buf, at, C.hash)! },
    type: BODY_KIND[BF.type] === STRING ? fieldText(buf, BF.type) : undefined,
    loggedAt: BODY_KIND[BF.loggedAt] === STRING ? fieldText(buf, BF.loggedAt) : undefined,
    time: BODY_KIND[BF.time] === STRING ? fieldText(buf, BF.time) : undefined,
  };
}

const TOOL = Buffer.from('tool');
const AGENT = Buffer.from('agent');
const MS_TAIL = Buffer.from('000Z');

function fieldText(buf: Buffer, f: number): string {
  return buf.toString('utf8', BODY_AT[2 * f]!, BODY_AT[2 * f + 1]!);
}

function sameBytes(a: Uint8Array, a0: number, a1: number, b: Uint8Array, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = 0; i < a1 - a0; i++) if (a[a0 + i] !== b[b0 + i]) return false;
  return true;
}

function isWord(buf: Buffer, f: number, word: Buffer): boolean {
  return sameBytes(buf, BODY_AT[2 * f]!, BODY_AT[2 * f + 1]!, word, 0, word.length);
}

/** A body field against a text column: equal strings, or absent (or null) against NULL. */
function same(buf: Buffer, at: Int32Array, f: number, column: number): boolean {
  const len = at[2 * column + 1]!;
  const kind = BODY_KIND[f];
  if (kind === ABSENT) return len === -1;
  return kind === STRING && len >= 0 && sameBytes(buf, BODY_AT[2 * f]!, BODY_AT[2 * f + 1]!, buf, at[2 * column]!, at[2 * column]! + len);
}

/** `agent.id`, else `actor.id` when the actor is an agent (DERIVED's agent_id). */
function sameAgent(buf: Buffer, at: Int32Array): boolean {
  const kind = BODY_KIND[BF.agentId];
  if (kind === STRING) return same(buf, at, BF.agentId, C.agentId);
  if (kind !== ABSENT) return false;
  if (BODY_KIND[BF.actorType] === STRING && isWord(buf, BF.actorType, AGENT)) return same(buf, at, BF.actorId, C.agentId);
  return at[2 * C.agentId + 1] === -1;
}

const digitAt = (buf: Buffer, i: number) => buf[i]! >= 0x30 && buf[i]! <= 0x39;

/**
 * A body's time in the writer's form (UTC, `YYYY-MM-DDTHH:MM:SS.sssZ` or with microseconds)
 * against a column printed as the latter; anything else is left to the database.
 */
function sameInstant(buf: Buffer, at: Int32Array, f: number, column: number): boolean {
  if (BODY_KIND[f] !== STRING) return false;
  const s = BODY_AT[2 * f]!;
  const e = BODY_AT[2 * f + 1]!;
  const c = at[2 * column]!;
  if (at[2 * column + 1] !== 27) return false;
  const len = e - s;
  if (len !== 24 && len !== 27) return false;
  for (let k = 0; k < len - 1; k++) {
    const ch = buf[s + k]!;
    const sep = k === 4 || k === 7 ? 0x2d : k === 10 ? 0x54 : k === 13 || k === 16 ? 0x3a : k === 19 ? 0x2e : -1;
    if (sep === -1 ? !digitAt(buf, s + k) : ch !== sep) return false;
  }
  if (buf[e - 1] !== 0x5a) return false;
  if (len === 27) return sameBytes(buf, s, e, buf, c, c + 27);
  return sameBytes(buf, s, s + 23, buf, c, c + 23) && sameBytes(buf, c + 23, c + 27, MS_TAIL, 0, 4);
}
