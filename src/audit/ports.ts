import type { AuditEvent } from '../domain/index.js';
import type { ChainHead } from './chain.js';
import type { SignedCheckpoint } from './signing.js';

/** The chained append the writer needs from a store. */
export interface ChainStore {
  /**
   * In one transaction: lock the tenant's chain head, let `build` number, link and hash the
   * events onto it, insert them and move the head. Resolves after commit.
   */
  appendChained(tenantId: string, build: (head: ChainHead) => { events: AuditEvent[]; head: ChainHead }): Promise<void>;
}

/** Reads a chain in sequence order, for verification, checkpoints and streaming. */
export interface ChainReader {
  head(tenantId: string): Promise<ChainHead>;
  /** Events of one tenant by sequence number from `fromSeq` (inclusive), in batches; constant memory. */
  streamChain(tenantId: string, opts?: { fromSeq?: number; toSeq?: number; batchSize?: number }): AsyncIterable<AuditEvent>;
  tenants(): Promise<string[]>;
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
  status(): Promise<DeliveryState[]>;
  /** Sets a cursor back (or forward) so delivery resumes at `fromSeq`. */
  replay(destination: string, tenantId: string, fromSeq: number): Promise<void>;
  deadLetters(destination: string, limit: number): Promise<DeadLetter[]>;
}
