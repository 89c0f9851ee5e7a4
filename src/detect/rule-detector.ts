import type { Finding } from '../domain/index.js';
import type { Detector, ScanInput, ScanSource, TextView } from './detector.js';
import { excerpt, maskEvidence } from './evidence.js';
import { findingIn } from './finding.js';
import { compilePatternSet, type PatternDef, type PatternMatch } from './pattern-set.js';
import type { ScanScratch } from './scan-scratch.js';

/** A rule of a pattern-based detector: its RE2 pattern, finding type and base score. */
export interface Rule extends PatternDef {
  readonly type: string;
  readonly score: number;
  /** Mask the matched text in `evidence` (it may be a credential or wallet). */
  readonly mask?: boolean;
}

/** How a rule-based detector is built; `refine` may drop or rescore a match (return undefined to drop). */
export interface RuleDetectorSpec {
  readonly id: string;
  readonly category: Finding['category'];
  readonly rules: readonly Rule[];
  /** Which views to match: the raw text, the normalized text, or both. */
  readonly views: 'raw' | 'normalized' | 'both';
  /** Multiplier per source (e.g. tool poisoning matters most in descriptions). @default 1 for every source */
  readonly sourceWeight?: Partial<Record<ScanSource, number>>;
  readonly refine?: (m: PatternMatch, rule: Rule, view: TextView, input: ScanInput) => number | undefined;
  /** Findings computed without patterns (counts, repetition); appended to the rule findings. */
  readonly extra?: (input: ScanInput, found: readonly Finding[]) => Finding[];
}

/** Builds a detector from RE2 rules: one pattern-set pass per view, findings mapped to raw offsets; `scratch` is its detector set's. */
export function createRuleDetector(spec: RuleDetectorSpec, scratch: Partial<Pick<ScanScratch, 'patterns'>> = {}): Detector {
  const set = compilePatternSet(spec.rules, { scratch: scratch.patterns });
  const rules = new Map(spec.rules.map((r) => [r.id, r]));
  return {
    id: spec.id,
    categories: [spec.category],
    scan(input: ScanInput): Finding[] {
      const out: Finding[] = [];
      const views = spec.views === 'raw' ? [input.views[0]!] : spec.views === 'normalized' ? [input.normalized] : [input.views[0]!, input.normalized];
      const weight = spec.sourceWeight?.[input.source] ?? 1;
      for (const view of views) {
        for (const m of set.matchAll(view.text).matches) {
          const rule = rules.get(m.id)!;
          const base = spec.refine ? spec.refine(m, rule, view, input) : rule.score;
          if (base === undefined) continue;
          out.push(findingIn(view, { category: spec.category, type: rule.type, score: base * weight, start: m.start, end: m.end, detector: spec.id, evidence: rule.mask ? maskEvidence(m.value, 6) : excerpt(m.value) }, input.path));
        }
      }
      if (spec.extra) out.push(...spec.extra(input, out));
      return out;
    },
  };
}
