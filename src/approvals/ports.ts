import type { ApprovalRequest, ApprovalStatus, ApprovalVote } from '../domain/index.js';

/** A request as stored, with the digest its `session` reuse is found by. */
export interface StoredApproval extends ApprovalRequest {
  sessionDigest?: string | undefined;
}

/** What a vote does to a request, decided inside the transaction that holds the request's row. */
export interface VoteChange {
  vote: ApprovalVote;
  status: ApprovalStatus;
  decidedAt?: string;
  /** Approved: until when the approval may be used. */
  expiresAt?: string;
}

/** The approvals store (src/store implements it); every call names its tenant. */
export interface ApprovalRepo {
  /** Inserts a pending request; false when a pending request with its digest already exists (two identical calls at once). */
  insert(r: StoredApproval): Promise<boolean>;
  get(tenantId: string, id: string): Promise<ApprovalRequest | undefined>;
  /** Only the state of a request: what a waiter polls. */
  status(tenantId: string, id: string): Promise<{ status: ApprovalStatus; expiresAt: string } | undefined>;
  /** How many requests of one agent are pending. */
  pendingOf(tenantId: string, agent: string): Promise<number>;
  /** The newest request bound to this digest. */
  latestByDigest(tenantId: string, digest: string): Promise<ApprovalRequest | undefined>;
  /** An approved `session` request with this session digest, usable at `now`. */
  sessionApproval(tenantId: string, sessionDigest: string, now: Date): Promise<ApprovalRequest | undefined>;
  /** Requests newest first, optionally of one status; `before` pages by id. */
  list(tenantId: string, filter: { status?: ApprovalStatus | undefined; limit: number; before?: string | undefined }): Promise<ApprovalRequest[]>;
  /**
   * Locks the request, hands it to `decide` (which throws to refuse) and stores the vote and status it
   * returns, in one transaction: two approvers at once are counted one after the other.
   */
  vote(tenantId: string, id: string, decide: (current: ApprovalRequest) => VoteChange): Promise<ApprovalRequest>;
  /** Marks the principal's confirmation; with `approved`, the request's status too. False when it is not pending. */
  confirm(tenantId: string, id: string, at: string, approved: boolean): Promise<boolean>;
  /** Moves a request from `from` to `to` (expiry, cancellation); false when it was not in `from`. */
  close(tenantId: string, id: string, from: ApprovalStatus, to: ApprovalStatus, at: string): Promise<boolean>;
  /** Marks an approved `once` request used; false when it was used already, is not approved, or its window has passed. */
  consume(tenantId: string, id: string, now: Date): Promise<boolean>;
  /** Pending requests past their expiry, across tenants (the expiry timer). */
  due(now: Date, limit: number): Promise<{ tenantId: string; id: string }[]>;
  /** Requests still pending, every tenant together (metrics; no tenant's ids leave). */
  pendingCount(): Promise<number>;
}
