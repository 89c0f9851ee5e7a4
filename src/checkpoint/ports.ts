import type { Action, ActionKind, Agent, EntityLabels, Reason, SessionStep, SessionView, ApprovalPolicy, ApprovalRequest, ApprovalSubject, CheckOutcome, CheckRequirement, Finding, Tool } from '../domain/index.js';
import type { PolicySet } from '../policy/index.js';

/** What the checkpoint needs to know about tools and agents; the registry's word beats the caller's. */
export interface RegistryPort {
  /** The registered tool, or undefined when the registry does not know it. */
  findTool(server: string, name: string): Promise<Tool | undefined>;
  /** The registered agent, or undefined when the registry does not know it. */
  findAgent(id: string): Promise<Agent | undefined>;
  /** The same registry for another tenant; without it every tenant reads this one. */
  forTenant?(tenantId: string): RegistryPort;
}

/**
 * The detectors (src/detect's DetectorSet fits): scans an action's input and a call's output. A scan of a
 * large input should yield to the event loop between detector calls (DetectorSet's `scan`, `scanValueAsync`).
 */
export interface DetectorPort {
  scan(action: Action): Promise<Finding[]>;
  scanValue(value: unknown, source: 'tool_result', root?: string): Finding[] | Promise<Finding[]>;
}

/** Hands out the policy set in force; swapped atomically when policies reload. */
export interface PolicyProvider {
  /** The set of tenant `default` (and of every caller when the provider knows no tenants). */
  current(): PolicySet;
  /** The set in force for one tenant: the file policies and its active managed versions. */
  forTenant?(tenantId: string): PolicySet;
}

/** The set a tenant's action is decided by: its own where the provider keeps sets per tenant. */
export function policySetFor(policies: PolicyProvider, tenantId: string | undefined): PolicySet {
  return policies.forTenant ? policies.forTenant(tenantId ?? 'default') : policies.current();
}

/** Which call bodies the audit log keeps besides their digests. */
export interface CaptureOptions {
  args?: boolean;
  results?: boolean;
}

/**
 * Approval requests (src/approvals implements it): for a `require_approval` decision, whether an
 * approval of this exact subject releases it now, a request waits, or an approver denied it.
 */
export interface ApprovalPort {
  resolve(input: { tenantId: string; subject: ApprovalSubject; policy: ApprovalPolicy; agentOwner?: string | undefined }): Promise<{ outcome: 'released' | 'pending' | 'denied'; request: ApprovalRequest }>;
}

/**
 * What a status check is shown of an action: the action as it will be forwarded (arguments masked
 * where a scan section redacts), its principal and agent by id. The request's digest covers exactly
 * this and the tenant.
 */
export interface CheckSubject {
  kind: ActionKind;
  scope: string;
  tool?: { server: string; name: string };
  resource?: { uri: string; server?: string };
  args?: Record<string, unknown>;
  principal?: string;
  agent?: string;
}

/** One decision's status checks, as the checks stage hands them to the port. */
export interface CheckRequest {
  tenantId: string;
  action: CheckSubject;
  /** `digestJson({ tenant, action })`: what a cached answer is keyed by, and what a receiver may recompute. */
  digest: string;
}

/**
 * Runs external status checks (src/approvals' check client fits). Absent offline, where every check
 * follows its `onError`.
 */
export interface CheckPort {
  /** One outcome per requirement, in order; never rejects: a check that failed is an outcome with `error`, its verdict its `onError`. */
  run(requirements: readonly CheckRequirement[], request: CheckRequest): Promise<CheckOutcome[]>;
}

/** Which session a step belongs to: one agent's session in one tenant (an agent never reads another's). */
export interface SessionKey {
  tenantId: string;
  agentId: string;
  sessionId: string;
}

/**
 * The recent steps of agent sessions, for `session.history` in conditions (src/abuse's session
 * history fits: in memory, or Redis for replicas). Reads and writes must be quick: they are on the
 * decision path.
 */
export interface SessionHistoryPort {
  view(key: SessionKey): Promise<SessionView> | SessionView;
  /** Adds a decided step (its input findings included). */
  record(key: SessionKey, step: SessionStep): Promise<void> | void;
  /** Adds what output inspection found to the session's latest step on this tool. */
  addOutputFindings(key: SessionKey, tool: { server: string; name: string }, findings: SessionStep['findings']): Promise<void> | void;
}

/** What the abuse platform says of an action before it is decided. */
export interface AbuseScreenResult {
  /** The live labels of its agent, principal and session: `agent.labels` … in conditions. */
  labels: EntityLabels;
  /** Set when a mitigation in force (deny, throttle) or a synchronous abuse rule refuses it. */
  refusal?: Reason | undefined;
}

/**
 * The abuse platform (src/abuse's engine fits): labels, mitigations in force and synchronous
 * rules, consulted before the decision. Rejects (fail closed) when it cannot tell.
 */
export interface AbusePort {
  screen(input: { tenantId: string; action: Action; sessionId?: string | undefined; ip?: string | undefined; findings: readonly Finding[] }): Promise<AbuseScreenResult>;
}

