import type { AuditCategory, AuditEvent, AuditOutcome, Effect } from '../domain/index.js';
import type { ChainedBatch, ChainHead } from './chain.js';
import type { SignedCheckpoint } from './signing.js';
import type { ChainEntry, ColumnMismatch, VerifyEntry } from './verify.js';

/** The chained append the writer needs from a store. */
export interface ChainStore {
  /**
   * In one transaction: lock the tenant's chain head, let `build` number, link and hash the
   * events onto it, insert them (each with the canonical text its hash is over) and move the
   * head. Resolves after commit.
   */
  appendChained(tenantId: string, build: (head: ChainHead) => ChainedBatch): Promise<void>;
}

/** Reads a chain in sequence order, for verification, checkpoints and streaming. */
export interface ChainReader {
  head(tenantId: string): Promise<ChainHead>;
  /**
   * Events of one tenant by sequence number from `fromSeq` (inclusive), in batches; constant
   * memory. Events removed by retention come as stubs (links and hash only).
   */
  streamChain(tenantId: string, opts?: { fromSeq?: number; toSeq?: number; batchSize?: number }): AsyncIterable<ChainEntry>;
  tenants(): Promise<string[]>;
}

/** What `warden audit verify` reads besides the chain itself. */
export interface ChainAuditor {
  /** The tenant's retention and hold events (`EVIDENCE_TYPES`), in chain order. */
  evidence(tenantId: string): Promise<AuditEvent[]>;
  /** Up to `limit` rows whose indexed columns differ from their event body, by sequence number. */
  columnMismatches(tenantId: string, limit: number): Promise<ColumnMismatch[]>;
  /**
   * The chain as stored, for verification: each event as the text its hash is over (not parsed)
   * and stubs, like `streamChain`. Reading it compares each row's indexed columns with its body;
   * `columnMismatches`, called once `entries` is read to the end, names the rows that differ
   * (up to `limit`), asking the database only about the rows the reader could not confirm.
   * `thread`: read in a second thread (PostgreSQL; default: for long chains when a core is idle). Entries may come in
   * batches (arrays), which `verifyChain` takes as they are.
   */
  storedChain(tenantId: string, opts?: { batchSize?: number; thread?: boolean }): { entries: AsyncIterable<VerifyEntry | readonly VerifyEntry[]>; columnMismatches(limit: number): Promise<ColumnMismatch[]> };
}

/** Stores signed checkpoints. */
export interface CheckpointStore {
  saveCheckpoint(cp: SignedCheckpoint): Promise<void>;
  listCheckpoints(tenantId: string): Promise<SignedCheckpoint[]>;
}

/** Where one destination stands in one tenant's chain. */
export interface DeliveryState {
  destination: string;
  tenantId: string;
  /** Every event up to here was delivered or dead-lettered. */
  cursorSeq: number;
  attempts: number;
  nextAttempt: string | undefined;
  lastError: string | undefined;
  lastSuccess: string | undefined;
  delivered: number;
  dead: number;
}

/** One event a destination gave up on, kept for inspection and replay. */
export interface DeadLetter {
  destination: string;
  tenantId: string;
  seq: number;
  eventId: string;
  error: string;
  attempts: number;
  at: string;
}

/** Cursors, leases and dead letters of the streaming destinations. */
export interface DeliveryStore {
  /** Takes (or renews) the lease on a cursor; undefined when another owner holds it. */
  claim(destination: string, tenantId: string, owner: string, leaseMs: number): Promise<DeliveryState | undefined>;
  /** Moves the cursor forward after a delivery and clears the failure state. */
  advance(destination: string, tenantId: string, owner: string, toSeq: number, delivered: number): Promise<void>;
  /** Records a failed attempt and when to try again. */
  fail(destination: string, tenantId: string, owner: string, error: string, attempts: number, nextAttempt: Date): Promise<void>;
  /** Gives up on one event: records it and moves the cursor past it. */
  deadLetter(destination: string, tenantId: string, owner: string, seq: number, eventId: string, error: string, attempts: number): Promise<void>;
  release(destination: string, tenantId: string, owner: string): Promise<void>;
  /** Every cursor, or one tenant's. */
  status(tenantId?: string): Promise<DeliveryState[]>;
  /** Sets a cursor back (or forward) so delivery resumes at `fromSeq`. */
  replay(destination: string, tenantId: string, fromSeq: number): Promise<void>;
  /** Dead letters of a destination, of every tenant or of one. */
  deadLetters(destination: string, limit: number, tenantId?: string): Promise<DeadLetter[]>;
}

/** A legal hold: events of a scope (and below) in a time range that retention must keep. */
export interface LegalHold {
  id: string;
  tenantId: string;
  scope: string;
  from: string | undefined;
  to: string | undefined;
  reason: string;
  createdBy: string;
  createdAt: string;
  releasedAt: string | undefined;
}

/** What one retention pass removed from one category. */
export interface RetentionOutcome {
  tenantId: string;
  category: string;
  before: string;
  removed: number;
  held: number;
  fromSeq: number | undefined;
  toSeq: number | undefined;
  /** The id the declaring `audit.retention.deleted` event takes; each stub names it. */
  removalId: string;
  /** The removed sequence numbers as runs (`1-3,7`), or undefined when there are too many runs to list. */
  seqs: string | undefined;
}

/** A whole time partition retention dropped, and what it held per tenant. */
export interface PartitionDrop {
  partition: string;
  from: string;
  to: string;
  /** Per tenant: what was removed, and the id of the `audit.retention.partition_dropped` event its stubs name. */
  tenants: { tenantId: string; removed: number; fromSeq: number; toSeq: number; removalId: string; seqs: string | undefined }[];
}

/** Retention settings, holds, and the removal itself (stubs kept in the same transaction). */
export interface RetentionStore {
  /**
   * Drops each monthly partition whose every event has expired under its tenant's and category's
   * period, that no active hold overlaps and that holds no retention evidence; stubs are kept
   * first, in the same transaction, naming a removal id from `newId` per tenant.
   */
  dropExpiredPartitions(now: string, newId: () => string): Promise<PartitionDrop[]>;
  setRetention(tenantId: string, category: string, days: number | undefined): Promise<void>;
  retention(): Promise<{ tenantId: string; category: string; days: number }[]>;
  addHold(hold: Omit<LegalHold, 'createdAt' | 'releasedAt'>): Promise<void>;
  releaseHold(id: string): Promise<boolean>;
  holds(tenantId?: string): Promise<LegalHold[]>;
  /**
   * Removes one category's events older than `before`, except under an active hold and except
   * retention evidence; keeps their stubs, each naming `removalId`.
   */
  removeExpired(tenantId: string, category: string, before: string, removalId: string): Promise<RetentionOutcome>;
}

/** Filters for reading the audit log; all optional but `limit`. */
export interface AuditQuery {
  /** One event by its id (a UUID; any other text matches nothing). */
  id?: string;
  /** Inclusive lower bound (ISO 8601). */
  from?: string;
  /** Exclusive upper bound (ISO 8601). */
  to?: string;
  agent?: string;
  /** The principal the agent acted for. */
  principal?: string;
  tool?: string;
  effect?: Effect;
  /** That scope and everything below it. */
  scope?: string;
  category?: AuditCategory;
  type?: string;
  outcome?: AuditOutcome;
  tenant?: string;
  /** Only events at or below one of these scopes (the scopes a reader's role holds at); empty reads nothing. */
  within?: readonly string[];
  /** Free text, matched case-insensitively anywhere in the event. */
  text?: string;
  /**
   * Match `text` outside captured call bodies (`payload.args`, `payload.result`): a reader who may not
   * see bodies must not learn them one guessed character at a time through the search. @default false
   */
  textWithoutBodies?: boolean;
  /** Page size, 1..1000. */
  limit: number;
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor?: string;
}

/** One page of audit events, newest first. */
export interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
}

/** Reads the audit log. */
export interface AuditReader {
  list(query: AuditQuery): Promise<AuditPage>;
}
