import type { Action, CheckRequirement, Decision } from '../domain/index.js';
import type { PolicySet } from './compiled.js';
import { DecisionConditions, resolveSettings, runCondition, type EvaluateOptions } from './evaluate.js';

const NONE: readonly CheckRequirement[] = Object.freeze([]);

/**
 * The external status checks a decision must run before it stands: those of every enforce-mode rule
 * that matches the action (its `match` and scope hold, and its condition is true or fails closed to
 * true), in rule order. None when the decision is already a deny (a deny needs no check) and none of
 * warn-mode rules (they never change an outcome). Pass the same action and options as to `decide`.
 *
 * Separate from `decide` so a decision (what reaches the wire and the audit log) never carries the
 * check URLs, and a set without checks costs one field read.
 */
export function checksFor(set: PolicySet, action: Action, decision: Pick<Decision, 'effect'>, opts: EvaluateOptions = {}): readonly CheckRequirement[] {
  if (!set.hasChecks || decision.effect === 'deny') return NONE;
  const rules = set.index.matches(action).filter((r) => r.checks !== undefined && r.mode === 'enforce');
  if (rules.length === 0) return NONE;
  const conditions = new DecisionConditions(action, opts.now, resolveSettings(set, action.scope).timezone, opts.findings ?? [], opts.session, opts.labels);
  return rules.filter((r) => runCondition(r, conditions).matched).flatMap((r) => r.checks!);
}
