import type { Action, Decision, Reason, SessionView } from '../domain/index.js';
import type { PolicySet } from './compiled.js';
import { DecisionConditions, resolveSettings, type EvaluateOptions } from './evaluate.js';

/**
 * The decision with each deciding reason whose rule reads `session` naming the earlier steps that
 * made it hold: a step is a witness when the rule's condition still holds with that step alone as
 * the history (what `session.history.exists(…)` conditions mean). Runs only for a decision with a
 * session history and a deciding rule that reads it, so an ordinary decision pays one scan of its
 * reasons.
 */
export function withSessionWitnesses(set: PolicySet, action: Action, decision: Decision, opts: EvaluateOptions & { session: SessionView }): Decision {
  const history = opts.session.history;
  if (history.length === 0) return decision;
  let changed = false;
  const reasons = decision.reasons.map((reason): Reason => {
    const rule = set.rules.find((r) => r.policy === reason.policy && r.name === reason.rule && r.effect === reason.effect);
    if (!rule?.when || !rule.whenSource?.includes('session')) return reason;
    const timezone = resolveSettings(set, action.scope).timezone;
    const steps = history.filter((step) => new DecisionConditions(action, opts.now, timezone, opts.findings ?? [], { ...opts.session, history: [step] }, opts.labels).result(rule.when!) === true);
    if (steps.length === 0) return reason;
    changed = true;
    return { ...reason, steps: steps.map((s) => ({ eventId: s.eventId, tool: s.tool.name, at: s.at })) };
  });
  return changed ? { ...decision, reasons } : decision;
}
