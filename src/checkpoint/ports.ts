import type { Action, Agent, ApprovalPolicy, ApprovalRequest, ApprovalSubject, Finding, Tool } from '../domain/index.js';
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
