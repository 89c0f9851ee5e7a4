import type { Effect } from '../domain/index.js';
import type { CompiledRule, PolicySet } from './compiled.js';
import { strongest } from './effect.js';
import { resolveSettings } from './evaluate.js';
import { isUnder } from './scope-path.js';

/** Who narrows: rules that can never match this agent (other agents, other roles) are not counted. */
export interface NarrowingSubject {
  agentId: string;
  roles?: readonly string[] | undefined;
}

/** One protection that holds at the bound scope and would not hold at the requested one. */
export type NarrowingLoss =
  | { kind: 'rule'; policy: string; rule: string; effect: Effect; exclude: string }
  | { kind: 'scan'; policy: string; exclude: string }
  | { kind: 'default'; bound: Effect; requested: Effect; from: string | undefined };

/**
 * What narrowing from `bound` to `requested` (a scope at or below it) would stop enforcing: the
 * enforce-mode deny and require_approval rules that apply at `bound` but not at `requested`
 * (an `exclude` removes them there), the scan sections likewise, and a scope default that gets
 * weaker (deny at `bound`, allow at `requested`). Empty when narrowing loses nothing; a requested
 * scope outside `bound` is the caller's to refuse before asking.
 *
 * INVARIANT: every policy covering `bound` also covers `requested` (scopes are inherited downward),
 * so only an exclude can remove a rule on the way down; it is still checked both ways so a caller
 * passing an unrelated scope gets a loss, never a silent pass.
 */
export function narrowingLosses(set: PolicySet, bound: string, requested: string, subject?: NarrowingSubject): NarrowingLoss[] {
  if (requested === bound) return [];
  const losses: NarrowingLoss[] = [];
  // Only a rule in force at `bound` can be lost, and those are attached on its ancestry.
  for (const rule of set.index.inScope(bound)) {
    if (rule.mode !== 'enforce' || rule.effect === 'allow' || !concerns(rule, subject)) continue;
    if (appliesAt(rule, bound) && !appliesAt(rule, requested)) {
      losses.push({ kind: 'rule', policy: rule.policy, rule: rule.name, effect: rule.effect, exclude: excludeOf(rule, requested) });
    }
  }
  for (const scan of set.scans) {
    if (appliesAt(scan, bound) && !appliesAt(scan, requested)) losses.push({ kind: 'scan', policy: scan.policy, exclude: excludeOf(scan, requested) });
  }
  const was = resolveSettings(set, bound);
  const now = resolveSettings(set, requested);
  if (strongest(was.defaultEffect, now.defaultEffect) !== now.defaultEffect) losses.push({ kind: 'default', bound: was.defaultEffect, requested: now.defaultEffect, from: now.defaultFrom });
  return losses;
}

/** Whether a policy's rule (or scan section) is in force at a scope: under one of its scopes and none of its excludes. */
function appliesAt(p: { scopes: readonly string[]; excludes: readonly string[] }, scope: string): boolean {
  return p.scopes.some((s) => isUnder(scope, s)) && !p.excludes.some((x) => isUnder(scope, x));
}

/** The exclude that removes a policy at a scope (or the scope itself when none of its scopes covers it). */
function excludeOf(p: { excludes: readonly string[] }, scope: string): string {
  return p.excludes.find((x) => isUnder(scope, x)) ?? scope;
}

/** Whether a rule could ever match this subject: its `agents` and `roles` constraints are known before any action. */
function concerns(rule: CompiledRule, subject: NarrowingSubject | undefined): boolean {
  if (!subject) return true;
  if (rule.agents && !rule.agents(subject.agentId)) return false;
  if (rule.roles && !(subject.roles ?? []).some((r) => rule.roles!.has(r))) return false;
  return true;
}
