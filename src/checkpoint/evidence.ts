import { redactValue } from '../detect/index.js';
import type { Finding } from '../domain/index.js';
import type { ScanMandate } from '../policy/index.js';
import type { Redaction } from './pass.js';
import type { DetectorPort } from './ports.js';

const SENSITIVE = new Set<Finding['category']>(['secret', 'pii']);

/** Findings of one category listed per action (input) or per result (output); the rest are counted. */
export const MAX_FINDINGS_PER_CATEGORY = 50;

/** The longest evidence a listed finding keeps, in chars. */
export const MAX_EVIDENCE_CHARS = 200;

/** The `type` of the finding that counts what a category's cap left out. */
export const TRUNCATED_TYPE = 'truncated';

/**
 * What a decision, a result and an audit event list: per category, the `max` strongest findings (score,
 * then position) in their order, and when more were found, one summary finding of that category (type
 * `truncated`, score 0, no span, at `root`) whose evidence says how many there were in all. Evidence is
 * cut to MAX_EVIDENCE_CHARS. Redaction still masks every span found: it works on the full list.
 */
export function capFindings(findings: readonly Finding[], root: string, max = MAX_FINDINGS_PER_CATEGORY): Finding[] {
  const byCategory = new Map<Finding['category'], number[]>();
  findings.forEach((f, i) => {
    const list = byCategory.get(f.category);
    if (list) list.push(i);
    else byCategory.set(f.category, [i]);
  });
  const keep = new Set<number>();
  const summaries: Finding[] = [];
  for (const [category, list] of byCategory) {
    if (list.length <= max) {
      for (const i of list) keep.add(i);
      continue;
    }
    const strongest = [...list].sort((a, b) => findings[b]!.score - findings[a]!.score || findings[a]!.start - findings[b]!.start).slice(0, max);
    for (const i of strongest) keep.add(i);
    summaries.push({ category, type: TRUNCATED_TYPE, score: 0, severity: 'low', start: 0, end: 0, detector: 'warden.checkpoint', evidence: `${list.length} ${category} findings in all; the ${max} strongest are listed`, path: root });
  }
  const listed = findings.filter((_, i) => keep.has(i)).map((f) => (f.evidence.length > MAX_EVIDENCE_CHARS ? { ...f, evidence: `${f.evidence.slice(0, MAX_EVIDENCE_CHARS - 1)}…` } : f));
  return [...listed, ...summaries];
}

function valueAt(root: unknown, rootName: string, path: string): unknown {
  if (path === rootName) return root;
  if (!path.startsWith(rootName)) return undefined;
  let v: unknown = root;
  for (const m of path.slice(rootName.length).matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[m[1] ?? m[2]!];
  }
  return v;
}

/**
 * Evidence of any finding must never show a secret or personal data another detector found in the
 * same text (an injection finding's evidence is a window of raw text): such spans are masked with
 * `*` of equal length, so every finding's offsets stay valid. `sensitive` is every secret and
 * personal-data finding of the value (@default those among `findings`).
 */
export function scrubEvidence(findings: readonly Finding[], root: unknown, rootName: string, sensitive: readonly Finding[] = sensitiveOf(findings)): Finding[] {
  if (sensitive.length === 0) return [...findings];
  return findings.map((f) => {
    if (SENSITIVE.has(f.category) || f.path === undefined) return f;
    const spans = sensitive.filter((x) => x.path === f.path && x.start < f.end && x.end > f.start);
    if (spans.length === 0) return f;
    const text = valueAt(root, rootName, f.path);
    if (typeof text !== 'string') return { ...f, evidence: '[evidence withheld: overlaps sensitive data]' };
    let masked = text;
    for (const x of spans) masked = masked.slice(0, x.start) + '*'.repeat(Math.max(0, x.end - x.start)) + masked.slice(x.end);
    const window = masked.slice(f.start, f.end);
    return { ...f, evidence: window.length > 60 ? `${window.slice(0, 60)}…` : window };
  });
}

/** The secret and personal-data findings that point into a value (the ones masking needs). */
export function sensitiveOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => SENSITIVE.has(f.category) && f.path !== undefined);
}

/**
 * A call body as the audit log may keep it: secrets and personal data masked. Without detectors
 * nothing could be masked, so nothing is kept (fail closed: a digest only).
 */
export async function captureValue(detectors: DetectorPort | undefined, value: unknown, root: 'args' | 'result'): Promise<unknown> {
  if (!detectors) return undefined;
  return redactValue(value, sensitiveOf(await detectors.scanValue(value, 'tool_result', root)), root);
}

/** What a scan section's `redact` list masks among the findings, and the `redact` obligation reporting it. */
export function redactionOf(mandate: ScanMandate | undefined, findings: readonly Finding[]): Redaction {
  const hits = mandate ? findings.filter((f) => mandate.redact.has(f.category) && f.path !== undefined) : [];
  if (hits.length === 0) return { hits, obligation: undefined };
  return { hits, obligation: { type: 'redact', params: { categories: [...new Set(hits.map((f) => f.category))], paths: [...new Set(hits.map((f) => f.path!))] } } };
}
