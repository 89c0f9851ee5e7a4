import type { Finding } from '../domain/index.js';
import type { TextView } from './detector.js';
import { severityFor } from './evidence.js';

/** Builds a finding whose span is given in `view` coordinates; maps it back to the raw input. */
export function findingIn(
  view: TextView,
  f: { category: Finding['category']; type: string; score: number; start: number; end: number; detector: string; evidence: string; severity?: Finding['severity'] },
  path?: string,
): Finding {
  const [start, end] = view.toRaw(f.start, f.end);
  const score = Math.round(Math.min(1, Math.max(0, f.score)) * 1000) / 1000;
  const evidence = view.kind === 'raw' || view.kind === 'normalized' ? f.evidence : `${f.evidence} [${view.kind}]`;
  const out: Finding = { category: f.category, type: f.type, score, severity: f.severity ?? severityFor(score), start, end, detector: f.detector, evidence };
  if (path !== undefined) out.path = path;
  return out;
}

/** Drops findings of the same category and type whose spans overlap a higher-scored one. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) => b.score - a.score || a.start - b.start);
  const kept: Finding[] = [];
  for (const f of sorted) {
    const clash = kept.some((k) => k.category === f.category && k.type === f.type && (k.path ?? '') === (f.path ?? '') && k.start < Math.max(f.end, f.start + 1) && f.start < Math.max(k.end, k.start + 1));
    if (!clash) kept.push(f);
  }
  return kept.sort((a, b) => a.start - b.start || a.end - b.end);
}
