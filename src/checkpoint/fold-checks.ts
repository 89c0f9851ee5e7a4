import type { ApprovalRequirement, CheckOutcome, CheckRequirement, Decision, Reason } from '../domain/index.js';

/** What a check that did not answer usably counts as: its `onError`, with why. */
export function failedOutcome(req: CheckRequirement, error: string, ms?: number): CheckOutcome {
  return { policy: req.policy, rule: req.rule, name: req.name, verdict: req.onError, error, ...(ms !== undefined ? { ms } : {}) };
}

function reasonOf(req: CheckRequirement | undefined, o: CheckOutcome): Reason {
  const why = o.error !== undefined ? `did not answer (${o.error}), and its onError is ${o.verdict}` : o.verdict === 'deny' ? `denied${o.reason ? `: ${o.reason}` : ''}` : `asks for approval${o.reason ? `: ${o.reason}` : ''}`;
  return { policy: o.policy, version: req?.version ?? 1, rule: o.rule, effect: o.verdict, message: `status check \`${o.name}\` ${why}` };
}

/**
 * Folds what the status checks answered into a decision, by deny > require_approval > allow: a
 * deny makes the decision a deny whose reasons are the denying checks (the rules that matched stay
 * named in `checks`); a require_approval turns an allow into require_approval (reasons: the
 * checks that asked) or joins an existing one, and adds an approval requirement for a rule that has
 * none (role `approver`, one approval); allows change nothing. Every outcome goes to
 * `decision.checks`. Pure: `outcomes[i]` answers `requirements[i]`.
 */
export function foldChecks(decision: Decision, requirements: readonly CheckRequirement[], outcomes: readonly CheckOutcome[]): Decision {
  if (outcomes.length === 0) return decision;
  const reqOf = (o: CheckOutcome) => requirements.find((r) => r.policy === o.policy && r.rule === o.rule && r.name === o.name);
  const checks = [...(decision.checks ?? []), ...outcomes];
  const denies = outcomes.filter((o) => o.verdict === 'deny');
  if (denies.length > 0) {
    // A deny asks nobody for approval.
    const denied: Decision = { ...decision, effect: 'deny', reasons: denies.map((o) => reasonOf(reqOf(o), o)), checks };
    delete denied.approval;
    return denied;
  }
  const asks = outcomes.filter((o) => o.verdict === 'require_approval');
  if (asks.length === 0 || decision.effect === 'deny') return { ...decision, checks };
  const approval: ApprovalRequirement[] = [...(decision.approval ?? [])];
  for (const o of asks) {
    // A rule that asks for approval itself names its approvers; a check on any other rule gets role `approver`, one approval.
    if (!approval.some((a) => a.policy === o.policy && a.rule === o.rule)) approval.push({ policy: o.policy, rule: o.rule, approvers: { roles: ['approver'] }, count: 1 });
  }
  const asked = asks.map((o) => reasonOf(reqOf(o), o));
  const reasons = decision.effect === 'require_approval' ? [...decision.reasons, ...asked] : asked;
  return { ...decision, effect: 'require_approval', reasons, approval, checks };
}
