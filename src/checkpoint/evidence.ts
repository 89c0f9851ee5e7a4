import { redactValue } from '../detect/index.js';
import type { Finding } from '../domain/index.js';
import type { ScanMandate } from '../policy/index.js';
import type { Redaction } from './pass.js';
import type { DetectorPort } from './ports.js';

const SENSITIVE = new Set<Finding['category']>(['secret', 'pii']);

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
 * `*` of equal length, so every finding's offsets stay valid.
 */
export function scrubEvidence(findings: readonly Finding[], root: unknown, rootName: string): Finding[] {
  const sensitive = sensitiveOf(findings);
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
export function captureValue(detectors: DetectorPort | undefined, value: unknown, root: 'args' | 'result'): unknown {
  if (!detectors) return undefined;
  return redactValue(value, sensitiveOf(detectors.scanValue(value, 'tool_result', root)), root);
}

/** What a scan section's `redact` list masks among the findings, and the `redact` obligation reporting it. */
export function redactionOf(mandate: ScanMandate | undefined, findings: readonly Finding[]): Redaction {
  const hits = mandate ? findings.filter((f) => mandate.redact.has(f.category) && f.path !== undefined) : [];
  if (hits.length === 0) return { hits, obligation: undefined };
  return { hits, obligation: { type: 'redact', params: { categories: [...new Set(hits.map((f) => f.category))], paths: [...new Set(hits.map((f) => f.path!))] } } };
}
