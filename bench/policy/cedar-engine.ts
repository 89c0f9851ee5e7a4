import { preparsePolicySet, statefulIsAuthorized, type AuthorizationAnswer, type StatefulAuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';
import type { LoadedEngine, Outcome } from './engine.js';

/**
 * Parses the policies once into Cedar's thread-local cache (`preparsePolicySet`), so decisions do
 * not re-parse them; throws with Cedar's first errors when the text does not parse.
 */
export function loadCedarSet(policySetId: string, policies: Record<string, string>): void {
  const answer = preparsePolicySet(policySetId, { staticPolicies: policies });
  if (answer.type !== 'success') {
    throw new Error(`cedar rejected the translated set: ${answer.errors.slice(0, 5).map((e) => e.message).join(' | ')}`);
  }
}

const policyOf = (id: string) => id.slice(id.indexOf(':') + 1);

/**
 * Reads Cedar's answer back as a Warden effect. Allow is allow. On deny, the determining policies
 * are the satisfied forbids: any `deny:` one makes it a deny, only `approval:` ones make it a
 * require_approval, and none means no permit matched (the default deny).
 */
export function cedarOutcome(answer: AuthorizationAnswer): Outcome {
  if (answer.type !== 'success') return { effect: 'deny', rules: [], errors: answer.errors.map((e) => e.message) };
  const { decision, diagnostics } = answer.response;
  const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
  const reasons = diagnostics.reason;
  if (decision === 'allow') return { effect: 'allow', rules: reasons.map(policyOf).sort(), errors };
  const denies = reasons.filter((id) => id.startsWith('deny:'));
  if (denies.length > 0) return { effect: 'deny', rules: denies.map(policyOf).sort(), errors };
  const approvals = reasons.filter((id) => id.startsWith('approval:'));
  if (approvals.length > 0) return { effect: 'require_approval', rules: approvals.map(policyOf).sort(), errors };
  return { effect: 'deny', rules: [], errors };
}

/** Wraps prepared requests as a `LoadedEngine` (the timed call is `statefulIsAuthorized`). */
export function cedarEngine(calls: readonly StatefulAuthorizationCall[]): LoadedEngine<AuthorizationAnswer> {
  return {
    decide: (i) => statefulIsAuthorized(calls[i]!),
    outcome: cedarOutcome,
  };
}
