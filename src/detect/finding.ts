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
  const steps = dedupeSteps(findings);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** `dedupeFindings` in steps: yields after every `every` findings, so an async scan can hand the event loop back. */
export function* dedupeSteps(findings: readonly Finding[], every = 4096): Generator<void, Finding[]> {
  const sorted = [...findings].sort((a, b) => b.score - a.score || a.start - b.start);
  yield;
  let done = 0;
  // Kept spans per category/type/path are disjoint, so one binary search finds the only one that can clash.
  const keptBy = new Map<string, Array<[number, number]>>();
  const kept: Finding[] = [];
  for (const f of sorted) {
    if (++done % every === 0) yield;
    const key = `${f.category}\u0000${f.type}\u0000${f.path ?? ''}`;
    let spans = keptBy.get(key);
    if (spans === undefined) keptBy.set(key, (spans = []));
    const s = f.start;
    const e = Math.max(f.end, f.start + 1);
    // Last kept span starting before `e`.
    let lo = 0;
    let hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spans[mid]![0] < e) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && spans[lo - 1]![1] > s) continue;
    spans.splice(lo, 0, [s, e]);
    kept.push(f);
  }
  return kept.sort((a, b) => a.start - b.start || a.end - b.end);
}
