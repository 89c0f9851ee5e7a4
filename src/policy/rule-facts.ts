import type { Effect, Reason } from '../domain/index.js';
import type { CelProgram } from './cel.js';
import type { CompiledRule, RuleFacts } from './compiled.js';
import { isUnder } from './scope-path.js';

// The per-rule table the evaluator reads instead of rule objects (`RuleFacts`, compiled.ts), and
// the reason a rule gives.

/** Bits of a `RuleFacts.bits` entry: the effect's rank, warn mode, has a condition. */
export const RANK_MASK = 3;
export const WARN = 4;
export const HAS_CONDITION = 8;
export const ALLOW = 0;
export const REQUIRE_APPROVAL = 1;
export const DENY = 2;

/** deny 2, require_approval 1, allow 0 (`strongest`'s order). */
export function rankOf(e: Effect): number {
  return e === 'deny' ? DENY : e === 'require_approval' ? REQUIRE_APPROVAL : ALLOW;
}

export const EFFECT_OF_RANK: readonly Effect[] = Object.freeze(['allow', 'require_approval', 'deny']);

/** The reason a rule gives on an action at `scope`: it names the first of the rule's scopes that covers `scope`. */
export function reasonOf(rule: CompiledRule, scope: string): Reason {
  // With one scope the loop would give that scope whether or not it covers `scope`: skip it.
  let at = rule.onlyScope;
  if (at === undefined) {
    at = rule.scopes[0]!;
    for (const s of rule.scopes) {
      if (isUnder(scope, s)) {
        at = s;
        break;
      }
    }
  }
  return rule.message !== undefined
    ? { policy: rule.policy, version: rule.version, rule: rule.name, effect: rule.effect, message: rule.message, scope: at, mode: rule.mode }
    : { policy: rule.policy, version: rule.version, rule: rule.name, effect: rule.effect, scope: at, mode: rule.mode };
}

/** The facts of a set's rules (see `RuleFacts`): built once per load. */
export function buildRuleFacts(rules: readonly CompiledRule[]): RuleFacts {
  const bits = new Uint8Array(rules.length);
  const reasons = new Array<Readonly<Reason> | undefined>(rules.length);
  const programs = new Array<CelProgram | undefined>(rules.length);
  for (const rule of rules) {
    programs[rule.id] = rule.when;
    bits[rule.id] = rankOf(rule.effect) | (rule.mode === 'warn' ? WARN : 0) | (rule.when ? HAS_CONDITION : 0);
    // The scope argument is unused when the rule has one scope.
    reasons[rule.id] = rule.onlyScope !== undefined ? Object.freeze(reasonOf(rule, rule.onlyScope)) : undefined;
  }
  return { bits, reasons, programs };
}
