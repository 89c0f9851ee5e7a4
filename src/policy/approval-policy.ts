import type { ApprovalPolicy, ApprovalRequirement } from '../domain/index.js';
import type { PolicySet } from './compiled.js';
import type { ApprovalSettingsDoc } from './document.js';
import { durationMs } from './duration.js';
import { ancestry } from './scope-path.js';

/** How long a request stays pending when neither its rule nor its scope says. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 60 * 60 * 1000;

/** A policy duration in milliseconds; the schema has checked its shape, so it always parses. */
const ms = (text: string): number => durationMs(text) ?? 0;

/** Each approval setting from the nearest scope (the request's or an ancestor's) that sets it. */
export function approvalSettingsAt(set: PolicySet, scope: string): ApprovalSettingsDoc {
  const out: { -readonly [K in keyof ApprovalSettingsDoc]: ApprovalSettingsDoc[K] } = {};
  const chain = ancestry(scope);
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = set.settings.get(chain[i]!)?.approvals;
    if (!a) continue;
    for (const k of Object.keys(a) as (keyof ApprovalSettingsDoc)[]) if (out[k] === undefined) (out as Record<string, unknown>)[k] = a[k];
  }
  return out;
}

/**
 * One approval policy from every rule that asked for approval and the scope's settings, taking the
 * strictest of each: an approver must satisfy every rule's approvers; the largest count (and at
 * least the scope's `minCount`); the shortest timeout and re-authentication age; `session` reuse only
 * when every rule allows it; a confirmation when any rule asks for one.
 */
export function approvalPolicyFor(set: PolicySet, scope: string, requirements: readonly ApprovalRequirement[]): ApprovalPolicy {
  const settings = approvalSettingsAt(set, scope);
  const named = requirements.filter((r) => r.approvers.roles !== undefined || r.approvers.principals !== undefined);
  let approvers = named.map((r) => ({ ...r.approvers }));
  const confirm = requirements.some((r) => r.confirm === 'principal');
  let count = named.length > 0 ? Math.max(...named.map((r) => r.count)) : 0;
  const timeouts = requirements.flatMap((r) => (r.timeout ? [ms(r.timeout)] : []));
  const timeoutMs = timeouts.length > 0 ? Math.min(...timeouts) : settings.timeout ? ms(settings.timeout) : DEFAULT_APPROVAL_TIMEOUT_MS;
  const reauths = [...requirements.flatMap((r) => (r.reauth ? [ms(r.reauth)] : [])), ...(settings.reauth ? [ms(settings.reauth)] : [])];
  // A confirmation comes through the agent's own client, unauthenticated: it never stands in for
  // approvers a scope demands (`minCount`) or for a recent sign-in (`reauth`). And a decision with no
  // rule asking (a scope whose default is require_approval) still needs someone who can answer.
  if (approvers.length === 0 && (!confirm || settings.minCount !== undefined || reauths.length > 0)) approvers = [{ roles: ['approver'] }];
  if (approvers.length > 0) count = Math.max(count, settings.minCount ?? 1);
  const reuse = requirements.length > 0 && requirements.every((r) => r.reuse === 'session') ? 'session' : 'once';
  return {
    approvers,
    count,
    confirm,
    timeoutMs,
    reuse,
    agentOwnerMayApprove: settings.agentOwnerMayApprove ?? false,
    ...(reauths.length > 0 ? { reauthMinutes: Math.max(1, Math.ceil(Math.min(...reauths) / 60_000)) } : {}),
    rules: requirements.map((r) => `${r.policy}/${r.rule}`),
  };
}
