import type { KeyObject } from 'node:crypto';
import type { AuditEvent } from '../domain/index.js';
import { eventHash, GENESIS_HASH, type ChainHead } from './chain.js';
import { sha256Of } from './jcs.js';
import { MerkleBuilder } from './merkle.js';
import { createStubJudge, isRetentionEvidence } from './retention-evidence.js';
import { checkCheckpointSignature, type SignedCheckpoint } from './signing.js';

/** The kinds of damage verification names. */
export type TamperKind = 'changed' | 'column' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint' | 'unsealed';

/** Kinds that name a damaged row; `checkpoint` and `unsealed` name a range or a missing proof. */
const ROW_KINDS: ReadonlySet<TamperKind> = new Set(['changed', 'column', 'deleted', 'inserted', 'reordered', 'truncated']);

/** One problem found, at the first sequence number it affects. */
export interface TamperFinding {
  kind: TamperKind;
  seq: number;
  message: string;
}

/** A range of the chain removed on purpose (retention), with the links that bridge it. */
export interface SealedRange {
  fromSeq: number;
  toSeq: number;
  /** prevHash of event `fromSeq`, i.e. the hash of `fromSeq - 1`. */
  prevHash: string;
  /** hash of event `toSeq`, which event `toSeq + 1` links to. */
  lastHash: string;
}

/**
 * A removed event's place in the chain (kept by retention): its links and hash, not its content.
 * The verifier checks its links like any event's but cannot recompute its hash; it checks the
 * removal against the retention event the stub names (`removedBy`).
 */
export interface ChainStub {
  stub: true;
  id: string;
  tenantId: string;
  integrity: { seq: number; prevHash: string; hash: string };
  /** The id of the `audit.retention.deleted` or `.partition_dropped` event that declares the removal. */
  removedBy?: string;
  category?: string;
  time?: string;
  scope?: string;
}

/** A stored row whose indexed columns differ from its hashed body. */
export interface ColumnMismatch {
  seq: number;
  columns: string[];
}

/**
 * A stored event as the text its hash is over: the verifier hashes these bytes, not a
 * re-canonicalized copy. The other fields are parsed from that text, except `hash`, which the
 * row keeps apart.
 */
export interface StoredEvent {
  stored: true;
  /**
   * The canonical text: every member of the event but `integrity.hash`; or its UTF-8 bytes as
   * the database sent them, which spares decoding a text only hashed. Left out when the reader
   * hashed it already (`bodyMatches`).
   */
  body?: string | Uint8Array;
  id: string;
  tenantId: string;
  integrity: { seq: number; prevHash: string; hash: string };
  type: string | undefined;
  loggedAt: string | undefined;
  time: string | undefined;
  /** The body is not a readable event (not JSON, or no whole `integrity.seq`); `id` and `seq` are then the row's columns. */
  unreadable?: true;
  /**
   * Set by a reader that hashed the body itself (in another thread, where it has one): whether
   * `sha256:` and that hash's lower-case hex is exactly `integrity.hash`. The verifier then does
   * not hash it again; with neither this nor `body`, the event counts as changed.
   */
  bodyMatches?: boolean | undefined;
  /**
   * Where the reader made it (only for a hash in the form `sha256Of` prints), the Merkle leaf of
   * `integrity.hash` (`leafOfDigest`): 32 bytes of this from `leafAt`. The verifier then does not
   * decode the hash.
   */
  leaf?: Uint8Array | undefined;
  /** @default 0 */
  leafAt?: number;
}

/** A chain as read back: stored events and the stubs of removed ones, in storage order. */
export type ChainEntry = AuditEvent | ChainStub;

/** What the verifier reads: a chain, with stored events parsed or as their stored text. */
export type VerifyEntry = ChainEntry | StoredEvent;

function isStub(e: VerifyEntry): e is ChainStub {
  return (e as ChainStub).stub === true;
}

function isStored(e: VerifyEntry): e is StoredEvent {
  return (e as StoredEvent).stored === true;
}

/** What verification saw and found. */
export interface VerifyReport {
  ok: boolean;
  events: number;
  /** How many of them were removed by retention (stubs). */
  removed: number;
  lastSeq: number;
  checkpoints: number;
  /** The first bad row's sequence number (else the first sequence a bad checkpoint or missing seal covers), when any. */
  firstBadSeq: number | undefined;
  findings: TamperFinding[];
}

/** Options: what else the verifier knows besides the events. */
export interface VerifyOptions {
  /** The head the log claims; events missing at the tail are caught against it. */
  head?: ChainHead;
  checkpoints?: readonly SignedCheckpoint[];
  /** Keys a checkpoint must be signed with; without, embedded keys are used. */
  trustedKeys?: ReadonlyMap<string, KeyObject>;
  sealed?: readonly SealedRange[];
  /**
   * The chain's retention and hold events (`EVIDENCE_TYPES`), in chain order: what a stub is
   * judged against. Without it every stub is reported. They must be the chain's own events.
   */
  evidence?: readonly AuditEvent[];
  /**
   * Rows whose indexed columns differ from their hashed body (the store compares them); a
   * function is called once every event was read (the store compares while it streams).
   */
  columnMismatches?: Iterable<ColumnMismatch> | (() => Promise<Iterable<ColumnMismatch>>);
  /**
   * Require the chain to be sealed: a chain with events but no checkpoint is reported, and so are
   * events logged more than `maxAgeMs` after the last checkpoint was signed (undefined: no limit).
   */
  seal?: { maxAgeMs: number | undefined };
  /** Stop collecting after this many findings. @default 100 */
  maxFindings?: number;
  onProgress?: (events: number) => void;
}

const WINDOW = 65_536;

/**
 * Verifies one tenant's chain from events in storage order: each event's own hash, its link to
 * its predecessor, sequence continuity (gaps, duplicates, moves), the tail against the head, and
 * every signed checkpoint's Merkle root and last hash. Streams: memory stays bounded.
 */
export async function verifyChain(events: AsyncIterable<VerifyEntry | readonly VerifyEntry[]> | Iterable<VerifyEntry>, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const max = opts.maxFindings ?? 100;
  const findings: TamperFinding[] = [];
  const add = (f: TamperFinding) => {
    if (findings.length < max) findings.push(f);
  };
  const sealed = [...(opts.sealed ?? [])].sort((a, b) => a.fromSeq - b.fromSeq);
  const checkpoints = [...(opts.checkpoints ?? [])].sort((a, b) => a.fromSeq - b.fromSeq);
  for (const cp of checkpoints) {
    const bad = checkCheckpointSignature(cp, opts.trustedKeys);
    if (bad) add({ kind: 'checkpoint', seq: cp.fromSeq, message: bad });
  }

  let maxSeq = 0;
  // Recent hashes by seq, for link checks that survive a moved event; bounded.
  // Evicted by distance from the newest number, not insertion order: a fresh iterator for the oldest
  // entry walks every deleted slot before it, which made a long chain quadratic.
  const seen = new Map<number, string>();
  const remember = (seq: number, hash: string) => {
    seen.set(seq, hash);
    seen.delete(seq - WINDOW);
    if (seen.size > 2 * WINDOW) for (const k of seen.keys()) if (!(k >= maxSeq - WINDOW)) seen.delete(k);
  };
  for (const s of sealed) remember(s.toSeq, s.lastHash);
  remember(0, GENESIS_HASH);
  const gaps: { from: number; to: number }[] = [];
  let count = 0;
  let removed = 0;
  let cpIndex = 0;
  let merkle: MerkleBuilder | undefined;

  const isSealed = (from: number, to: number) => sealed.some((s) => s.fromSeq <= from && s.toSeq >= to);
  const judge = createStubJudge(opts.evidence ?? []);
  const evidence = new Map((opts.evidence ?? []).map((e) => [e.integrity?.seq, e.integrity?.hash]));
  const sealedThrough = checkpoints.reduce((n, cp) => Math.max(n, cp.toSeq), 0);
  // The last stored event and its seq; read once at the end, not copied per event.
  let newest: { seq: number; e: VerifyEntry } | undefined;

  // A reader may hand over batches: one await per batch instead of per event.
  for await (const item of events) {
    const batch: readonly VerifyEntry[] = Array.isArray(item) ? (item as readonly VerifyEntry[]) : [item as VerifyEntry];
    for (const e of batch) {
      count++;
      if (isStub(e)) removed++;
      if (count % 10_000 === 0) opts.onProgress?.(count);
      const seq = e.integrity?.seq;
      if (seq === undefined) {
        add({ kind: 'inserted', seq: maxSeq + 1, message: `event \`${e.id}\` has no chain position` });
        continue;
      }
      // A row whose hash column was nulled (only a damaged log has one) claims the empty hash: it is
      // reported as changed, its checkpoint's root no longer matches, and nothing below throws.
      const claimed = typeof e.integrity!.hash === 'string' ? e.integrity!.hash : '';
      const stored = isStored(e);
      // Whether the event hashes to what it claims. A body the reader hashed is not hashed again
      // (nor its Merkle leaf decoded from hex below); a stub's content is gone, only its links are checked.
      let matches: boolean;
      if (isStub(e)) matches = true;
      else if (stored && e.bodyMatches !== undefined) matches = e.bodyMatches;
      else if (stored) matches = e.body !== undefined && sha256Of(e.body) === claimed;
      else matches = eventHash(e) === claimed;
      if (seen.has(seq) && seq !== 0) {
        add({ kind: 'inserted', seq, message: `sequence number ${seq} appears twice (event \`${e.id}\`)` });
        continue;
      }
      if (!matches) add({ kind: 'changed', seq, message: `event ${seq} (\`${e.id}\`) does not match its hash` });
      else if (stored && e.unreadable) add({ kind: 'changed', seq, message: `event ${seq} (\`${e.id}\`) is stored as text that is not an audit event` });
      if (isStub(e)) {
        const bad = judge.judge({ seq, removedBy: e.removedBy, category: e.category, time: e.time, scope: e.scope }, sealedThrough);
        if (bad) add({ kind: 'deleted', seq, message: bad });
      } else {
        // The evidence stubs were judged by must be this chain's own events, not a second story.
        if ((isRetentionEvidence(e) || evidence.has(seq)) && evidence.get(seq) !== claimed) add({ kind: 'changed', seq, message: `retention event ${seq} differs from the evidence stubs were judged by` });
        evidence.delete(seq);
        if (newest) {
          newest.seq = seq;
          newest.e = e;
        } else newest = { seq, e };
      }
      if (seq < maxSeq) {
        const gi = gaps.findIndex((g) => g.from <= seq && seq <= g.to);
        add({ kind: 'reordered', seq, message: `event ${seq} is stored after event ${maxSeq}` });
        if (gi !== -1) {
          const g = gaps[gi]!;
          gaps.splice(gi, 1, ...[{ from: g.from, to: seq - 1 }, { from: seq + 1, to: g.to }].filter((x) => x.from <= x.to));
        }
      } else if (seq > maxSeq + 1 && !isSealed(maxSeq + 1, seq - 1)) {
        gaps.push({ from: maxSeq + 1, to: seq - 1 });
      }
      const prev = seen.get(seq - 1);
      if (prev !== undefined && prev !== e.integrity!.prevHash && matches) {
        add({ kind: 'changed', seq: seq - 1, message: `event ${seq - 1} is not the event that event ${seq} links to` });
      }
      remember(seq, claimed);
      maxSeq = Math.max(maxSeq, seq);

      // Checkpoint ranges are contiguous and in order on an untampered log; feed their Merkle trees.
      while (cpIndex < checkpoints.length && checkpoints[cpIndex]!.toSeq < seq) {
        closeCheckpoint(checkpoints[cpIndex]!, merkle, add);
        merkle = undefined;
        cpIndex++;
      }
      const cp = checkpoints[cpIndex];
      if (cp && seq >= cp.fromSeq && seq <= cp.toSeq) {
        merkle ??= new MerkleBuilder();
        if (stored && e.leaf) merkle.addLeaf(e.leaf, e.leafAt);
        else merkle.add(claimed);
        if (seq === cp.toSeq) {
          if (cp.lastHash !== claimed) add({ kind: 'checkpoint', seq, message: `event ${seq} differs from the one checkpoint ${cp.fromSeq}..${cp.toSeq} signed` });
          closeCheckpoint(cp, merkle, add);
          merkle = undefined;
          cpIndex++;
        }
      }
    }
  }
  for (; cpIndex < checkpoints.length; cpIndex++) {
    closeCheckpoint(checkpoints[cpIndex]!, merkle, add);
    merkle = undefined;
  }
  for (const [seq] of evidence) add({ kind: 'inserted', seq: seq ?? 0, message: `retention evidence names event ${seq}, which is not in this chain` });
  for (const m of judge.miscounted()) add({ kind: 'deleted', ...m });
  const columns = typeof opts.columnMismatches === 'function' ? await opts.columnMismatches() : (opts.columnMismatches ?? []);
  for (const m of columns) {
    add({ kind: 'column', seq: m.seq, message: `event ${m.seq}: stored ${m.columns.map((c) => `\`${c}\``).join(', ')} ${m.columns.length === 1 ? 'differs' : 'differ'} from its hashed body` });
  }
  if (opts.seal && newest) {
    const last = newest.e as AuditEvent | StoredEvent;
    sealFindings(opts.seal.maxAgeMs, checkpoints.at(-1), { seq: newest.seq, loggedAt: last.loggedAt ?? last.time ?? '' }, add);
  }
  for (const g of gaps) add({ kind: 'deleted', seq: g.from, message: g.from === g.to ? `event ${g.from} is missing` : `events ${g.from}..${g.to} are missing` });
  if (opts.head && opts.head.seq > maxSeq && !isSealed(maxSeq + 1, opts.head.seq)) {
    add({ kind: 'truncated', seq: maxSeq + 1, message: `the log ends at ${maxSeq} but its head says ${opts.head.seq}` });
  } else if (opts.head && opts.head.seq === maxSeq && seen.get(maxSeq) !== undefined && seen.get(maxSeq) !== opts.head.hash) {
    add({ kind: 'changed', seq: maxSeq, message: `the last event does not match the chain head` });
  }
  const lastCp = checkpoints.at(-1);
  if (lastCp && lastCp.toSeq > maxSeq) add({ kind: 'truncated', seq: maxSeq + 1, message: `checkpoint ${lastCp.fromSeq}..${lastCp.toSeq} covers events the log no longer has` });

  findings.sort((a, b) => a.seq - b.seq);
  // A checkpoint finding names its range's first sequence; a damaged row inside it is more precise.
  const firstBadSeq = (findings.find((f) => ROW_KINDS.has(f.kind)) ?? findings[0])?.seq;
  return { ok: findings.length === 0, events: count, removed, lastSeq: maxSeq, checkpoints: checkpoints.length, firstBadSeq, findings };
}

function sealFindings(maxAgeMs: number | undefined, last: SignedCheckpoint | undefined, newest: { seq: number; loggedAt: string }, add: (f: TamperFinding) => void): void {
  if (!last) {
    add({ kind: 'unsealed', seq: 1, message: 'no signed checkpoint covers this chain, so a rewrite of it could not be detected; run `warden audit seal`' });
    return;
  }
  if (last.toSeq >= newest.seq || maxAgeMs === undefined) return;
  const lag = Date.parse(newest.loggedAt) - Date.parse(last.createdAt);
  if (lag > maxAgeMs) {
    add({
      kind: 'unsealed',
      seq: last.toSeq + 1,
      message: `the last checkpoint (${last.fromSeq}..${last.toSeq}, signed ${last.createdAt}) is ${Math.round(lag / 1000)} s older than event ${newest.seq}, more than the ${Math.round(maxAgeMs / 1000)} s sealing allows; is sealing running?`,
    });
  }
}

function closeCheckpoint(cp: SignedCheckpoint, merkle: MerkleBuilder | undefined, add: (f: TamperFinding) => void): void {
  const expected = cp.toSeq - cp.fromSeq + 1;
  if (!merkle || merkle.size !== expected) {
    add({ kind: 'checkpoint', seq: cp.fromSeq, message: `checkpoint ${cp.fromSeq}..${cp.toSeq} covers ${expected} events but ${merkle?.size ?? 0} were found in order` });
    return;
  }
  if (merkle.root() !== cp.root) add({ kind: 'checkpoint', seq: cp.fromSeq, message: `events ${cp.fromSeq}..${cp.toSeq} do not match the Merkle root their checkpoint signed` });
}
