import type { Effect, Reason } from '../domain/index.js';
import type { CompiledRule } from './compiled.js';
import { isUnder } from './scope-path.js';

/**
 * What a decision reads of each rule, by rule id, built once per set. In a large set the matched
 * rule objects are scattered over the heap and a decision that read each of them paid a cache miss
 * per match; these tables are dense, and a decision reads a rule object only for a rule with a
 * condition, an approval or more than one scope.
 */
export interface RuleFacts {
  /** Per rule id: `rankOf(effect)` in bits 0–1, `WARN` and `HAS_CONDITION`. */
  readonly bits: Uint8Array;
  /**
   * Per rule id: the reason the rule gives, frozen and shared by every decision it appears in, for
   * a rule attached to one scope (the reason names that scope whatever the action's); undefined
   * for a rule attached to several, whose reason depends on the action's scope (`reasonOf`).
   */
  readonly reasons: readonly (Readonly<Reason> | undefined)[];
}

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

export const EFFECT_OF_RANK: readonly Effect[] = ['allow', 'require_approval', 'deny'];

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

export function buildRuleFacts(rules: readonly CompiledRule[]): RuleFacts {
  const bits = new Uint8Array(rules.length);
  const reasons = new Array<Readonly<Reason> | undefined>(rules.length);
  for (const rule of rules) {
    bits[rule.id] = rankOf(rule.effect) | (rule.mode === 'warn' ? WARN : 0) | (rule.when ? HAS_CONDITION : 0);
    // The scope argument is unused when the rule has one scope.
    reasons[rule.id] = rule.onlyScope !== undefined ? Object.freeze(reasonOf(rule, rule.onlyScope)) : undefined;
  }
  return { bits, reasons };
}
