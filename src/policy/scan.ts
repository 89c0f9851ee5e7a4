import { FINDING_CATEGORIES, type Finding } from '../domain/index.js';
import type { ScanSpec } from './document.js';
import { isUnder } from './scope-path.js';

type Category = Finding['category'];

/** One policy's scan section, with where it applies. */
export interface ScanMandateEntry {
  readonly policy: string;
  readonly scopes: readonly string[];
  readonly excludes: readonly string[];
  readonly spec: ScanSpec;
}

/** What must be scanned for one action: the union of every applicable policy's scan section. */
export interface ScanMandate {
  detectors: ReadonlySet<Category>;
  input: boolean;
  output: boolean;
  /** Minimum score per category (the lowest any applicable policy asks for); unset: the detector's own floor. */
  thresholds: Readonly<Partial<Record<Category, number>>>;
  redact: ReadonlySet<Category>;
  /** The policies that asked, for explanations. */
  policies: readonly string[];
}

/**
 * Resolves the scan mandate for a scope: every policy whose scopes cover it (and whose excludes
 * do not) contributes its detectors, directions and redactions; thresholds take the lowest, and a
 * category a policy enables without a threshold counts as 0 (its detector's floor).
 */
export function resolveScan(entries: readonly ScanMandateEntry[], scope: string): ScanMandate | undefined {
  const detectors = new Set<Category>();
  const redact = new Set<Category>();
  const thresholds: Partial<Record<Category, number>> = {};
  const policies: string[] = [];
  let input = false;
  let output = false;
  for (const e of entries) {
    if (!e.scopes.some((s) => isUnder(scope, s)) || e.excludes.some((x) => isUnder(scope, x))) continue;
    policies.push(e.policy);
    const enabled = e.spec.detectors ?? FINDING_CATEGORIES;
    for (const d of enabled) detectors.add(d);
    const on = e.spec.on ?? ['input'];
    input ||= on.includes('input');
    output ||= on.includes('output');
    for (const [c, t] of Object.entries(e.spec.thresholds ?? {}) as [Category, number][]) thresholds[c] = Math.min(thresholds[c] ?? 1, t);
    // A category a policy turns on without a threshold asks for its detector's floor, the lowest bar there is:
    // another policy's higher threshold must not hide (or leave unredacted) what this one asks to see.
    for (const c of enabled) if (e.spec.thresholds?.[c] === undefined) thresholds[c] = 0;
    for (const r of e.spec.redact ?? []) redact.add(r);
  }
  if (policies.length === 0) return undefined;
  return { detectors, input, output, thresholds, redact, policies };
}

/**
 * Keeps the findings a mandate asks for, at or above their category's threshold. Findings arrive already
 * at or above their detector's own floor (the injection model's tuned threshold, 0.5 for the rest: see
 * detector-set.ts), so a category no policy sets a threshold for keeps every finding reported; a fixed
 * default here would override the threshold the model was measured at.
 */
export function mandatedFindings(mandate: ScanMandate, findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => mandate.detectors.has(f.category) && f.score >= (mandate.thresholds[f.category] ?? 0));
}
