import { createHash, hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ABSENT, BF, BODY_AT, BODY_KIND, ESCAPED, NUMBER, scanBody, STRING } from '../audit/body-scan.js';
import { leafOfDigest } from '../audit/merkle.js';
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

// The copied columns, in order, in their binary forms: the server prints nothing (to_char of two
// times per row was a second of its time per million rows) and bigint, uuid and timestamptz are
// compared as numbers and bytes.
const COLUMNS = [
  'chain_seq',
  'id',
  'prev_hash',
  'hash',
  'body',
  'CASE WHEN body IS NULL THEN event::text END AS event',
  'category',
  'time',
  'scope',
  'logged_at',
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
    let i = 0;
    if (this.rest) {
      // The tuple cut by the last chunk's end, joined with as little of this chunk as completes it.
      const rest = this.rest;
      this.rest = undefined;
      for (let k = Math.min(chunk.length, 4096); ; k = Math.min(chunk.length, 2 * k)) {
        const joined = Buffer.concat([rest, chunk.subarray(0, k)]);
        const j = this.one(joined, 0, row);
        if (j >= 0) {
          i = j - rest.length;
          break;
        }
        if (k === chunk.length) {
          this.rest = joined;
          return;
        }
      }
    }
    while (!this.ended) {
      const j = this.one(chunk, i, row);
      if (j < 0) break;
      i = j;
    }
    if (this.ended && i < chunk.length) throw unreadable('data follows its end');
    this.rest = i < chunk.length ? chunk.subarray(i) : undefined;
  }

  /** Reads the header, one tuple (calling `row`) or the trailer at `i`; the offset after it, or -1 when `buf` ends first. */
  private one(buf: Buffer, i: number, row: (buf: Buffer, at: Int32Array) => void): number {
    if (!this.header) {
      if (buf.length < i + 19) return -1;
      if (!buf.subarray(i, i + 11).equals(SIGNATURE)) throw unreadable('it does not start as binary COPY does');
      const ext = buf.readInt32BE(i + 15);
      if (buf.length < i + 19 + ext) return -1;
      this.header = true;
      return i + 19 + ext;
    }
    if (i + 2 > buf.length) return -1;
    const count = buf.readInt16BE(i);
    if (count === -1) {
      this.ended = true;
      return i + 2;
    }
    const n = this.fields;
    if (count !== n) throw unreadable(`a row has ${count} columns, not ${n}`);
    const at = this.at;
    let j = i + 2;
    for (let f = 0; f < n; f++) {
      if (j + 4 > buf.length) return -1;
      const len = buf.readInt32BE(j);
      if (len < -1) throw unreadable(`a column has length ${len}`);
      j += 4;
      at[2 * f] = j;
      at[2 * f + 1] = len;
      if (len > 0) j += len;
      if (j > buf.length) return -1;
    }
    row(buf, at);
    return j;
  }
}

function unreadable(why: string): WardenError {
  return new WardenError('store.unavailable', `the database's COPY of the audit log could not be read: ${why}`, { help: 'run `warden audit verify` again; if it fails the same way, report it' });
}

/** The COPY statement for a tenant's stored events with `chain_seq > 0`, in chain_seq order; `literal` quotes the tenant. */
export function copyStatement(tenantId: string, literal: (v: string) => string): string {
  return `COPY (SELECT ${COLUMNS.join(', ')} FROM audit_events WHERE tenant_id = ${literal(tenantId)} AND chain_seq > 0 ORDER BY audit_events.chain_seq) TO STDOUT (FORMAT binary)`;
}
export const COPY_FIELDS = COLUMNS.length;

/** Row kinds in a packed batch. */
const CONFIRMED = 0;
const UNCONFIRMED = 1;
const SLOW = 2;
// Per row in `index`: kind; start and end in `bytes` of hash, id, prevHash, type, loggedAt and time
// (-1: absent); the start of the Merkle leaf (-1: none); whether the body hashes to the hash (1 or 0).
const STRIDE = 15;
const ROWS_MAX = 1024;
const BYTES_MIN = 1 << 19;
const LEAF = 32;

/**
 * Rows as they are handed from the reader to the verifier: plain arrays and bytes, which cross a
 * thread by transfer, not copy. A row read with certainty is packed as the few texts the verifier
 * reads, its Merkle leaf and whether its body hashes to its hash, not as its body; any other is
 * decoded (`slow`, in order) and hashed by the verifier.
 */
export interface PackedBatch {
  rows: number;
  bytes: Uint8Array;
  index: Int32Array;
  /** Per row: its chain_seq column, then (read rows) its body's seq. */
  seqs: Float64Array;
  slow: CopiedRow[];
  /** chain_seq of the read rows whose columns differ from their body, or that it could not tell. */
  suspects: string[];
}

/**
 * Packs COPY tuples into batches: the column check, the body's hash and the Merkle leaf happen
 * here, wherever this runs (in the reader thread, beside the verifier's linking, when there is one).
 */
export class Packer {
  private batch!: PackedBatch;
  private bytes!: Buffer;
  private pos = 0;
  private readonly tenant: Buffer;

  constructor(
    tenantId: string,
    private readonly emit: (batch: PackedBatch) => void,
  ) {
    this.tenant = Buffer.from(tenantId, 'utf8');
    this.fresh(BYTES_MIN);
  }

  private fresh(size: number): void {
    this.bytes = Buffer.allocUnsafeSlow(size);
    this.batch = { rows: 0, bytes: this.bytes, index: new Int32Array(ROWS_MAX * STRIDE), seqs: new Float64Array(ROWS_MAX * 2), slow: [], suspects: [] };
    this.pos = 0;
  }

  /** Hands out the rows packed so far, if any. */
  flush(): void {
    if (this.batch.rows === 0) return;
    const done = this.batch;
    this.fresh(BYTES_MIN);
    this.emit(done);
  }

  add(buf: Buffer, at: Int32Array): void {
    // NULL (-1) only where a constraint was dropped: such a row is read as text, as before.
    if (at[2 * C.seq + 1] !== 8 || !sized(at, C.id, 16) || !sized(at, C.time, 8) || !sized(at, C.loggedAt, 8)) throw unreadable('a bigint, uuid or timestamptz column has the wrong size');
    const columnSeq = int8At(buf, at[2 * C.seq]!);
    const kind = checkRow(buf, at, this.tenant, columnSeq);
    const hashStart = at[2 * C.hash]!;
    const hashLen = at[2 * C.hash + 1]!;
    const bodyStart = at[2 * C.body]!;
    const bodyLen = at[2 * C.body + 1]!;
    const need =
      kind === SLOW
        ? 0
        : hashLen + (BODY_KIND[BF.id] === STRING ? fieldLength(BF.id) : 36) + fieldLength(BF.prevHash) + fieldLength(BF.type) + fieldLength(BF.loggedAt) + fieldLength(BF.time) + LEAF;
    if (this.batch.rows === ROWS_MAX || this.pos + need > this.batch.bytes.length) {
      this.flush();
      if (need > this.batch.bytes.length) this.fresh(need);
    }
    const { index, seqs } = this.batch;
    const bytes = this.bytes;
    const r = this.batch.rows++;
    const x = r * STRIDE;
    seqs[2 * r] = columnSeq;
    index[x] = kind;
    if (kind === SLOW) {
      this.batch.slow.push(decoded(buf, at));
      return;
    }
    if (kind === UNCONFIRMED) this.batch.suspects.push(seqText(buf, at));
    seqs[2 * r + 1] = bodySeq;
    this.put(buf, hashStart, hashStart + hashLen, x + 1);
    if (BODY_KIND[BF.id] === STRING) this.field(buf, BF.id, x + 3);
    else {
      // The row's own id names it when its body has none.
      bytes.write(uuidText(buf, at[2 * C.id]!), this.pos, 'latin1');
      index[x + 3] = this.pos;
      this.pos += 36;
      index[x + 4] = this.pos;
    }
    this.field(buf, BF.prevHash, x + 5);
    this.field(buf, BF.type, x + 7);
    this.field(buf, BF.loggedAt, x + 9);
    this.field(buf, BF.time, x + 11);
    // The leaf of the hash the row claims (not of its body's hash): what the verifier would make of that text.
    const canonical = hashDigest(buf, hashStart, hashLen, DIGEST);
    if (canonical) {
      leafOfDigest(DIGEST, bytes, this.pos);
      index[x + 13] = this.pos;
      this.pos += LEAF;
    } else index[x + 13] = -1;
    // The bytes the verifier would hash, against the only text `sha256Of` makes of their hash.
    index[x + 14] = canonical && sameDigest(sha256(buf.subarray(bodyStart, bodyStart + bodyLen)), DIGEST) ? 1 : 0;
  }

  /** Copies `buf[s, e)` into the batch, its offsets at `index[i]` and `index[i + 1]`. */
  private put(buf: Buffer, s: number, e: number, i: number): void {
    const index = this.batch.index;
    const bytes = this.bytes;
    // Short texts: a loop costs less than Buffer#copy's own overhead.
    let p = this.pos;
    index[i] = p;
    for (let k = s; k < e; k++) bytes[p++] = buf[k]!;
    index[i + 1] = this.pos = p;
  }

  /** A string field of the body `scanBody` just read, or -1 offsets when it is not one. */
  private field(buf: Buffer, f: number, i: number): void {
    if (BODY_KIND[f] === STRING) this.put(buf, BODY_AT[2 * f]!, BODY_AT[2 * f + 1]!, i);
    else this.batch.index[i] = this.batch.index[i + 1] = -1;
  }
}

const sized = (at: Int32Array, c: number, n: number) => at[2 * c + 1] === n || at[2 * c + 1] === -1;

// One-shot hashing where Node has it (20.12+), as in jcs.ts.
const sha256 = typeof hash === 'function' ? (b: Uint8Array) => hash('sha256', b, 'buffer') as unknown as Buffer : (b: Uint8Array) => createHash('sha256').update(b).digest();

/** The length of a string field `scanBody` found, 0 when it is not one. */
function fieldLength(f: number): number {
  return BODY_KIND[f] === STRING ? BODY_AT[2 * f + 1]! - BODY_AT[2 * f]! : 0;
}

const DIGEST = new Uint8Array(32);
const HASH_PREFIX = Buffer.from('sha256:', 'latin1');
const lowerHex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1);

/**
 * Whether `buf[s, s + len)` is `sha256:` and 64 lower-case hex digits, the only text `sha256Of`
 * makes; if so its 32 bytes are written to `out`.
 */
function hashDigest(buf: Buffer, s: number, len: number, out: Uint8Array): boolean {
  if (len !== HASH_PREFIX.length + 64) return false;
  for (let k = 0; k < HASH_PREFIX.length; k++) if (buf[s + k] !== HASH_PREFIX[k]) return false;
  for (let k = 0, i = s + HASH_PREFIX.length; k < 32; k++, i += 2) {
    const hi = lowerHex(buf[i]!);
    const lo = lowerHex(buf[i + 1]!);
    if (hi < 0 || lo < 0) return false;
    out[k] = hi * 16 + lo;
  }
  return true;
}

function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  for (let k = 0; k < 32; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * A packed row as the verifier reads it: what it reads on every row decoded, the texts only a
 * finding or the seal check reads (`id`, `loggedAt`, `time`) decoded when read.
 */
class PackedEvent implements StoredEvent {
  readonly stored = true;
  readonly integrity: { seq: number; prevHash: string; hash: string };
  readonly type: string | undefined;
  readonly bodyMatches: boolean;
  readonly leaf: Uint8Array | undefined;
  readonly leafAt: number;

  constructor(
    readonly tenantId: string,
    private readonly bytes: Buffer,
    private readonly index: Int32Array,
    private readonly x: number,
    seq: number,
  ) {
    this.integrity = { seq, prevHash: this.text(x + 5)!, hash: this.text(x + 1)! };
    this.type = this.text(x + 7);
    this.bodyMatches = index[x + 14] === 1;
    // The batch's bytes and an offset, not a view per row: nothing writes to a batch once it is handed out.
    this.leaf = index[x + 13]! < 0 ? undefined : bytes;
    this.leafAt = index[x + 13]!;
  }

  get id(): string {
    return this.text(this.x + 3)!;
  }

  get loggedAt(): string | undefined {
    return this.text(this.x + 9);
  }

  get time(): string | undefined {
    return this.text(this.x + 11);
  }

  private text(i: number): string | undefined {
    const s = this.index[i]!;
    return s < 0 ? undefined : this.bytes.toString('utf8', s, this.index[i + 1]);
  }
}

/** The entries of a packed batch, with their chain_seq columns; rows read slowly are read by `slow`, their suspects added. */
export function unpack(batch: PackedBatch, tenantId: string, slow: ReadRow, suspects: string[]): { entries: VerifyEntry[]; seqs: number[] } {
  const { index, seqs } = batch;
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const entries: VerifyEntry[] = new Array<VerifyEntry>(batch.rows);
  const order: number[] = new Array<number>(batch.rows);
  let s = 0;
  for (const seq of batch.suspects) suspects.push(seq);
  for (let r = 0; r < batch.rows; r++) {
    const x = r * STRIDE;
    order[r] = seqs[2 * r]!;
    if (index[x] === SLOW) {
      const row = batch.slow[s++]!;
      const read = slow(row);
      if (!read.confirmed) suspects.push(row.seq);
      entries[r] = read.entry;
      continue;
    }
    entries[r] = new PackedEvent(tenantId, bytes, index, x, seqs[2 * r + 1]!);
  }
  return { entries, seqs: order };
}

/**
 * A tenant's stored events by COPY on a pooled connection, packed in this thread. Holds the
 * connection while read; it is closed, not pooled again, when the caller stops early or the COPY fails.
 */
export async function* copiedBatches(pool: pg.Pool, tenantId: string): AsyncGenerator<PackedBatch> {
  const client = await pool.connect();
  let finished = false;
  try {
    const stream = client.query(copyTo(copyStatement(tenantId, (v) => client.escapeLiteral(v))));
    const tuples = new CopyTuples(COPY_FIELDS);
    const ready: PackedBatch[] = [];
    const packer = new Packer(tenantId, (b) => ready.push(b));
    const add = packer.add.bind(packer);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      tuples.push(chunk, add);
      while (ready.length > 0) yield ready.shift()!;
    }
    if (!tuples.ended) throw unreadable('it ended before its trailer');
    packer.flush();
    while (ready.length > 0) yield ready.shift()!;
    finished = true;
  } finally {
    // A COPY left unread keeps the connection busy: it is closed instead of pooled.
    client.release(!finished);
  }
}

/** A bigint (or timestamptz) column; beyond 2^53 it is inexact, which `exact` tells. */
function int8At(buf: Buffer, start: number): number {
  return buf.readInt32BE(start) * 4294967296 + buf.readUInt32BE(start + 4);
}
const exact = (n: number) => n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER;

/** chain_seq as its text (`chain_seq::text`), which names a row to the database. */
function seqText(buf: Buffer, at: Int32Array): string {
  return buf.readBigInt64BE(at[2 * C.seq]!).toString();
}

function uuidText(buf: Buffer, start: number): string {
  const h = buf.toString('hex', start, start + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const PG_EPOCH_US = 946_684_800_000_000;

/** A timestamptz column as the keyset reader prints it (UTC, microseconds); '' where that print is not an RFC 3339 time. */
function timeText(buf: Buffer, start: number): string {
  const us = int8At(buf, start);
  if (!exact(us)) return '';
  const unixUs = us + PG_EPOCH_US;
  const ms = Math.floor(unixUs / 1000);
  const iso = new Date(ms).toISOString();
  if (iso.length !== 24 || iso.startsWith('0000')) return '';
  return `${iso.slice(0, 19)}.${String(unixUs - Math.floor(unixUs / 1_000_000) * 1_000_000).padStart(6, '0')}Z`;
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
    seq: seqText(buf, at),
    id: (at[2 * C.id + 1] === -1 ? null : uuidText(buf, at[2 * C.id]!))!,
    prev_hash: t(C.prevHash)!,
    hash: t(C.hash)!,
    body: t(C.body),
    // As the driver hands a jsonb column over: parsed.
    event: event === null ? null : (JSON.parse(event) as AuditEvent),
    removed_by: null,
    category: t(C.category),
    time: at[2 * C.time + 1] === -1 ? null : timeText(buf, at[2 * C.time]!),
    scope: t(C.scope),
    logged_at: at[2 * C.loggedAt + 1] === -1 ? null : timeText(buf, at[2 * C.loggedAt]!),
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

// The body's seq, after `checkRow` read a row.
let bodySeq = 0;

/**
 * Whether a row's body is read with certainty as a readable event (else SLOW: the caller decodes
 * the row and reads it as text) and whether every indexed column equals what the body says, by
 * the rules `sameColumns` in audit-repo.ts applies to text. Leaves the body's fields in BODY_*.
 */
function checkRow(buf: Buffer, at: Int32Array, tenant: Buffer, columnSeq: number): number {
  const start = at[2 * C.body]!;
  const len = at[2 * C.body + 1]!;
  if (at[2 * C.hash + 1]! < 0 || at[2 * C.id + 1]! < 0 || at[2 * C.time + 1]! < 0 || at[2 * C.loggedAt + 1]! < 0) return SLOW;
  if (len < 0 || !scanBody(buf, start, start + len)) return SLOW;
  for (let f = 0; f < BODY_KIND.length; f++) if (BODY_KIND[f] === ESCAPED) return SLOW;
  // Readable: a whole-number seq as canonical JSON prints it, and a prevHash string.
  if (BODY_KIND[BF.seq] !== NUMBER || BODY_KIND[BF.prevHash] !== STRING) return SLOW;
  const s0 = BODY_AT[2 * BF.seq]!;
  const s1 = BODY_AT[2 * BF.seq + 1]!;
  if (s1 - s0 > 15 || (buf[s0] === 0x30 && s1 - s0 > 1)) return SLOW;
  let seq = 0;
  for (let i = s0; i < s1; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return SLOW;
    seq = seq * 10 + d;
  }
  bodySeq = seq;
  const confirmed =
    BODY_KIND[BF.tenantId] === STRING &&
    sameBytes(buf, BODY_AT[2 * BF.tenantId]!, BODY_AT[2 * BF.tenantId + 1]!, tenant, 0, tenant.length) &&
    seq === columnSeq &&
    BODY_KIND[BF.id] === STRING &&
    sameUuid(buf, BODY_AT[2 * BF.id]!, BODY_AT[2 * BF.id + 1]!, at[2 * C.id]!) &&
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
  return confirmed ? CONFIRMED : UNCONFIRMED;
}

const TOOL = Buffer.from('tool');
const AGENT = Buffer.from('agent');

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
const num = (buf: Buffer, i: number, n: number) => {
  let v = 0;
  for (let k = 0; k < n; k++) v = v * 10 + buf[i + k]! - 0x30;
  return v;
};

/** Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A body's time in the writer's form (UTC, `YYYY-MM-DDTHH:MM:SS.sssZ` or with microseconds)
 * against a timestamptz column: the same instant, and a text that names it the way
 * `to_char(…, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` would (a real date, no hour 24 or second 60,
 * year 1 or later). Anything else, and instants too far from 2000 for exact microseconds, is
 * left to the database.
 */
function sameInstant(buf: Buffer, at: Int32Array, f: number, column: number): boolean {
  if (BODY_KIND[f] !== STRING) return false;
  const s = BODY_AT[2 * f]!;
  const len = BODY_AT[2 * f + 1]! - s;
  if (len !== 24 && len !== 27) return false;
  for (let k = 0; k < len - 1; k++) {
    const sep = k === 4 || k === 7 ? 0x2d : k === 10 ? 0x54 : k === 13 || k === 16 ? 0x3a : k === 19 ? 0x2e : -1;
    if (sep === -1 ? !digitAt(buf, s + k) : buf[s + k] !== sep) return false;
  }
  if (buf[s + len - 1] !== 0x5a) return false;
  const y = num(buf, s, 4);
  const mo = num(buf, s + 5, 2);
  const d = num(buf, s + 8, 2);
  const h = num(buf, s + 11, 2);
  const mi = num(buf, s + 14, 2);
  const sec = num(buf, s + 17, 2);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! + (mo === 2 && leap ? 1 : 0) || h > 23 || mi > 59 || sec > 59) return false;
  const frac = len === 24 ? num(buf, s + 20, 3) * 1000 : num(buf, s + 20, 6);
  const us = ((daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1_000_000 + frac) - PG_EPOCH_US;
  const stored = int8At(buf, at[2 * column]!);
  return exact(us) && exact(stored) && us === stored;
}

const HEX = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1);

/** A body's id against a uuid column: its text exactly as `id::text` prints it (lower case, hyphens). */
function sameUuid(buf: Buffer, s: number, e: number, col: number): boolean {
  if (e - s !== 36) return false;
  let byte = 0;
  for (let k = 0; k < 36; ) {
    if (k === 8 || k === 13 || k === 18 || k === 23) {
      if (buf[s + k] !== 0x2d) return false;
      k++;
      continue;
    }
    const hi = HEX(buf[s + k]!);
    const lo = HEX(buf[s + k + 1]!);
    if (hi < 0 || lo < 0 || buf[col + byte] !== hi * 16 + lo) return false;
    byte++;
    k += 2;
  }
  return true;
}

/** What the reader thread is started with. */
export interface ReaderData {
  connection: pg.ClientConfig;
  tenantId: string;
}
/** From the reader thread: batches, then the end or an error. To it: any message acknowledges one batch. */
export type ReaderMessage = { batch: PackedBatch } | { end: true } | { error: string };

/**
 * The same batches, read and packed by a worker thread (`audit-chain-worker.ts`) on its own
 * connection: the column check and the hashing then run beside the linking of this thread. The
 * worker is stopped, and its connection with it, when the caller stops early. A worker that fails
 * or exits before its end message fails the read with `store.unavailable`; `start` makes the
 * worker (tests start one that fails).
 */
export async function* workerBatches(connection: pg.ClientConfig, tenantId: string, start: (data: ReaderData) => Worker = startReader): AsyncGenerator<PackedBatch> {
  const worker = start({ connection, tenantId });
  const queue: ReaderMessage[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  worker.on('message', (m: ReaderMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    failure = e;
    wake?.();
  });
  worker.on('exit', () => {
    exited = true;
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw new WardenError('store.unavailable', `reading the audit log failed: ${failure.message}`, { cause: failure });
        if (exited) throw unreadable('the reader stopped before the end');
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const m = queue.shift()!;
      if ('error' in m) throw new WardenError('store.unavailable', `reading the audit log failed: ${m.error}`);
      if ('end' in m) return;
      yield m.batch;
      worker.postMessage('ack');
    }
  } finally {
    await worker.terminate();
  }
}

function startReader(data: ReaderData): Worker {
  const built = new URL('./audit-chain-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData: data });
  // Run from the TypeScript sources (tests, `npm run warden`): the worker registers the same loader first.
  const source = new URL('./audit-chain-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, { eval: true, workerData: data });
}
