import type { SourceSpan } from '../domain/index.js';
import type { PolicySource } from './compile.js';
import type { CompiledRule, PolicySet } from './compiled.js';
import { parsePolicySource } from './parse.js';

/** A rule of the set, as a coverage report names it. */
export interface CoveredRule {
  /** `policy/rule`, as tests name it in `expect.rule`. */
  id: string;
  mode: CompiledRule['mode'];
  /** Where the rule's name is, when the sources were given. */
  span?: SourceSpan;
}

/**
 * Which rules the test cases exercised. A rule is exercised when it matched some case: its
 * `match` and scope held and its condition was true (or failed closed to true), whether or not it
 * decided; a rule that only ever matched alongside a stronger one, or is in `warn` mode, is
 * exercised but listed under `neverDecided`. Rules of `disabled` policies are never compiled into
 * the set, so they are not counted.
 */
export interface RuleCoverage {
  total: number;
  exercised: number;
  /** Rules no case matched, in the set's order. */
  notExercised: CoveredRule[];
  /** Rules some case matched but none decided, in the set's order. */
  neverDecided: CoveredRule[];
}

/** Where each rule's name is in the sources, by `policy/rule`. */
export function locateRules(sources: readonly PolicySource[]): Map<string, SourceSpan> {
  const at = new Map<string, SourceSpan>();
  for (const s of sources) {
    for (const p of parsePolicySource(s.file, s.text).policies) {
      for (const [i, r] of p.value.spec.rules.entries()) at.set(`${p.value.metadata.name}/${r.name}`, p.loc.at(['spec', 'rules', i, 'name']));
    }
  }
  return at;
}

/** The coverage of `set` by test results that carry their matched and deciding rules. */
export function ruleCoverage(set: PolicySet, results: readonly { matched?: readonly string[]; decidedBy: readonly string[] }[], spans?: ReadonlyMap<string, SourceSpan>): RuleCoverage {
  const matched = new Set(results.flatMap((r) => r.matched ?? []));
  const decided = new Set(results.flatMap((r) => r.decidedBy));
  const notExercised: CoveredRule[] = [];
  const neverDecided: CoveredRule[] = [];
  for (const rule of set.rules) {
    const id = `${rule.policy}/${rule.name}`;
    const span = spans?.get(id);
    const entry: CoveredRule = { id, mode: rule.mode, ...(span ? { span } : {}) };
    if (!matched.has(id) && !decided.has(id)) notExercised.push(entry);
    else if (!decided.has(id)) neverDecided.push(entry);
  }
  const total = set.rules.length;
  return { total, exercised: total - notExercised.length, notExercised, neverDecided };
}
