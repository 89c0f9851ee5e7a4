import type { Action, AuditSink, CheckRequirement, Clock, Decision, EntityLabels, Finding, Obligation, Reason, SessionView } from '../domain/index.js';
import type { PolicySet, ScanMandate } from '../policy/index.js';
import type { CallerInfo } from './audit-events.js';
import type { AbusePort, ApprovalPort, CaptureOptions, CheckPort, DetectorPort, PolicyProvider, RegistryPort, SessionHistoryPort } from './ports.js';

/**
 * What every stage may use: the checkpoint's ports. `audit` is absent only in the offline
 * checkpoint (`warden policy eval`/`test`), where no event is written and no event id is claimed.
 */
export interface PassDeps {
  policies: PolicyProvider;
  registry: RegistryPort;
  audit: Pick<AuditSink, 'append'> | undefined;
  clock: Clock;
  detectors: DetectorPort | undefined;
  capture: CaptureOptions | undefined;
  /** Absent offline (`warden policy eval`): a require_approval decision is returned as is. */
  approvals?: ApprovalPort | undefined;
  /** Runs external status checks; absent offline, where each check follows its `onError`. */
  checks?: CheckPort | undefined;
  /** Session histories for `session.history`; absent offline, where a session is always empty. */
  sessions?: SessionHistoryPort | undefined;
  /** Labels, mitigations and synchronous abuse rules; absent offline, where nothing is labelled. */
  abuse?: AbusePort | undefined;
}

/** The redaction a scope's scan section mandates for one value: the findings to mask and the obligation that reports it. */
export interface Redaction {
  hits: readonly Finding[];
  obligation: Obligation | undefined;
}

/**
 * The state of one input pass, handed from stage to stage. Stages never mutate it: each returns a
 * new pass with the fields it owns filled in. A field is undefined until the stage that owns it ran.
 */
export interface Pass {
  /** `performance.now()` when the pass began; the audit event's latency counts from here. */
  readonly started: number;
  readonly caller: CallerInfo | undefined;
  /** The caller asked for `durability: 'deferred'`: audit hands its write back in `durable` rather than awaiting it. */
  readonly deferDurable?: boolean;
  /** The action as the enforcement point validated it (identify), then with registry facts merged (registry). */
  readonly action: Action;
  /** registry: the session the action belongs to, as conditions see it (absent outside a session). */
  readonly session?: SessionView | undefined;
  /** Set by registry when the registry alone refuses the action (suspended agent, blocked tool). */
  readonly refusal?: Reason | undefined;
  /** registry: the policy set in force for this pass, read once so every later stage sees the same one. */
  readonly set?: PolicySet;
  /** screen: the live labels of the action's agent, principal and session. */
  readonly labels?: EntityLabels | undefined;
  /** detect: the scope's scan section, when one applies. */
  readonly mandate?: ScanMandate | undefined;
  /** detect: everything the detectors reported, before thresholds (argument capture masks with these). */
  readonly scanned?: readonly Finding[];
  /** detect: the mandated findings at their thresholds, evidence scrubbed; what policies and the caller see. */
  readonly findings?: readonly Finding[];
  /** detect: what the mandate redacts in the arguments. */
  readonly redaction?: Redaction;
  /** detect: the action to forward (arguments masked where the mandate redacts). */
  readonly forwarded?: Action;
  /** evaluate: the time the decision was made at, and the audit event's time. */
  readonly time?: Date;
  /** evaluate: the decision, without its audit event id (checks folds the status checks' answers into it). */
  readonly decision?: Decision;
  /**
   * evaluate: the status checks the decision must run (`checksFor`), empty when none. Kept off the
   * decision, so check URLs never reach the wire or the audit log; checks consumes them.
   */
  readonly checkRequirements?: readonly CheckRequirement[];
  /** audit: the id of the decision event (durable unless deferred); absent offline. */
  readonly auditEventId?: string | undefined;
  /** audit, deferred passes only: the decision event's commit, marked handled. */
  readonly durable?: Promise<void>;
}

/** A stage of the input pass: takes the pass so far, returns the next one. */
export interface PassStage<N extends string = string> {
  readonly name: N;
  run(pass: Pass, deps: PassDeps): Pass | Promise<Pass>;
}

/**
 * A field an earlier stage owns; throws when the stage order is broken (a programming error,
 * never a user input).
 */
export function reached<T>(value: T | undefined, field: string): T {
  // INVARIANT: STAGES runs every stage in order, so a later stage always finds what an earlier one set.
  if (value === undefined) throw new Error(`checkpoint stage order broken: \`${field}\` is not set yet`);
  return value;
}
