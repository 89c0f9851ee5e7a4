import type { AbuseSource, Case, CaseOutcome, CaseStatus, EntityRef, Label, Mitigation, ProposedMitigation } from '../domain/index.js';

/**
 * Labels on entities, kept per tenant (src/store implements it). A label is unique per entity and
 * name: adding one that exists replaces its connotation, reason, source and expiry.
 */
export interface LabelStore {
  add(label: Label): Promise<void>;
  /** Removes a live label; false when the entity had none of that name. */
  remove(tenantId: string, entity: EntityRef, name: string, now: Date): Promise<boolean>;
  /** The labels of these entities that have not expired at `now`. */
  live(tenantId: string, entities: readonly EntityRef[], now: Date): Promise<Label[]>;
  /** Whether any entity of the tenant has a live label (most tenants have none: the screen then reads nothing per entity). */
  anyLive(tenantId: string, now: Date): Promise<boolean>;
  /** Live labels, newest first, optionally of one entity kind, entity or name. */
  list(tenantId: string, filter: { entity?: EntityRef; kind?: EntityRef['kind']; name?: string; limit?: number }, now: Date): Promise<Label[]>;
}

/** Mitigations in force (deny, throttle, kill), per tenant. */
export interface MitigationStore {
  add(m: Mitigation): Promise<void>;
  /** Mitigations against these entities, not lifted and not past `until` at `now`. */
  live(tenantId: string, entities: readonly EntityRef[], now: Date): Promise<Mitigation[]>;
  /** Whether any entity of the tenant is under a live mitigation. */
  anyLive(tenantId: string, now: Date): Promise<boolean>;
  get(tenantId: string, id: string): Promise<Mitigation | undefined>;
  /** Lifts one early; undefined when unknown, already lifted or expired. */
  lift(tenantId: string, id: string, by: string, at: Date): Promise<Mitigation | undefined>;
  /**
   * Kills made after `since` in every tenant, not lifted (what a gateway's sweep closes sessions for).
   * The one cross-tenant read: a gateway serves sessions of many tenants.
   */
  killsSince(since: Date): Promise<Mitigation[]>;
  list(tenantId: string, filter: { entity?: EntityRef; live?: boolean; limit?: number }, now: Date): Promise<Mitigation[]>;
}

/** A page of cases and where the next one starts. */
export interface CasePage {
  cases: Case[];
  next?: string | undefined;
}

/** How often analysts confirmed and rejected one rule's cases: its precision. */
export interface RuleStats {
  rule: string;
  opened: number;
  confirmed: number;
  falsePositive: number;
  escalated: number;
  open: number;
  /** confirmed / (confirmed + falsePositive); absent until one is decided. */
  precision?: number | undefined;
}

/** Cases in review queues, per tenant. `claim` is the one place exclusivity is decided: atomically. */
export interface CaseStore {
  open(c: Case): Promise<void>;
  get(tenantId: string, id: string): Promise<Case | undefined>;
  /**
   * Cases newest first (by id), a page of `limit` after the id `after`. `scopes`: only cases at or
   * under one of them; `dueBefore`: only cases not closed whose `dueAt` is before it (overdue).
   */
  list(tenantId: string, filter: { queue?: string; status?: CaseStatus; subject?: EntityRef; rule?: string; scopes?: readonly string[]; dueBefore?: Date; limit?: number; after?: string }): Promise<CasePage>;
  /**
   * Claims an open case for `principal` (or keeps their own claim). Returns the claimed case, or
   * `{ conflict }` with the current row when someone else holds it or it is closed.
   */
  claim(tenantId: string, id: string, principal: string, at: Date): Promise<{ case: Case } | { conflict: Case } | undefined>;
  /** Releases a claim held by `principal` (or anyone's, `force`). */
  release(tenantId: string, id: string, principal: string, at: Date, force?: boolean): Promise<Case | undefined>;
  /**
   * Records a decision on a case claimed by `by`: `confirmed` and `false_positive` close it,
   * `escalated` moves it to `queue` and opens it for a new claim. Undefined when not claimed by `by`.
   * `applied`: what confirming it applied (the mitigator's answer), added to the case's `mitigations`,
   * `suspended` and `labelsAdded` so a later false positive can undo it.
   */
  decide(tenantId: string, id: string, d: { outcome: CaseOutcome; by: string; at: Date; note?: string; queue?: string; applied?: Applied }): Promise<Case | undefined>;
  addNote(tenantId: string, id: string, note: { by: string; at: Date; text: string }): Promise<Case | undefined>;
  ruleStats(tenantId: string): Promise<RuleStats[]>;
}

/** What a {@link Mitigator} applied for one case. */
export interface Applied {
  mitigations: string[];
  suspended: boolean;
  labelsAdded: string[];
}

/**
 * Applies and undoes mitigations (src/abuse/verdicts.ts implements it): the one place a deny,
 * throttle, kill, suspension or label takes effect, whether a rule or an analyst's confirmation asks.
 */
export interface Mitigator {
  /** Applies each proposal to `subject`; returns what was applied (mitigation ids, and whether it suspended or labelled). */
  apply(input: { tenantId: string; subject: EntityRef; proposed: readonly ProposedMitigation[]; source: AbuseSource; reason: string; caseId?: string }): Promise<Applied>;
  /** Undoes what a case's rule or confirmation applied: lifts its mitigations, resumes an agent it suspended, removes labels it added. */
  undo(c: Case, by: string): Promise<void>;
}

/** What a rule's `review` verdict hands the case service (it routes the case, sets its SLA and id). */
export interface OpenCaseInput {
  tenantId: string;
  category: string;
  severity: Case['severity'];
  scope: string;
  subject: EntityRef;
  summary: string;
  source: AbuseSource;
  evidence: Case['evidence'];
  mitigations: string[];
  proposed: ProposedMitigation[];
  suspended?: boolean;
  labelsAdded?: string[];
}

/** Opens cases (src/abuse/cases.ts's service fits). */
export interface CaseOpener {
  open(input: OpenCaseInput): Promise<Case>;
}

/** Suspends and resumes agents in the registry (core wires the registry service). */
export interface AgentSuspender {
  setStatus(tenantId: string, agentId: string, status: 'active' | 'suspended', by: { type: 'system' | 'user'; id: string; name?: string }): Promise<void>;
}
