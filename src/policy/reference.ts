import type { Action, Decision } from '../domain/index.js';
import type { PolicySet } from './compiled.js';
import { decideOver, type EvaluateOptions } from './evaluate.js';
import { isUnder } from './scope-path.js';

/**
 * The naive reference evaluator: no index, every rule considered. The contract suite checks that
 * the indexed evaluator agrees with it on every case.
 */
export function decideReference(set: PolicySet, action: Action, opts: EvaluateOptions = {}): Decision {
  const candidates = set.rules.filter((r) => r.scopes.some((s) => isUnder(action.scope, s)) && (!r.actions || r.actions.has(action.kind)));
  return decideOver(set, action, candidates, opts);
}
