/** Redacts a matched value for `Finding.evidence`: keeps a short prefix and the length, never the value. */
export function maskEvidence(value: string, keep = 4): string {
  const v = value.replace(/[\r\n\t]+/g, ' ');
  if (v.length <= keep * 2) return `${'*'.repeat(Math.min(v.length, 8))} (${v.length} chars)`;
  return `${v.slice(0, keep)}…${'*'.repeat(4)} (${v.length} chars)`;
}

/** Quotes a short excerpt of non-secret text (injection phrases, hosts) for `Finding.evidence`. */
export function excerpt(value: string, max = 80): string {
  const v = value.replace(/\s+/g, ' ').trim();
  return v.length <= max ? v : `${v.slice(0, max - 1)}…`;
}

/** Maps a 0..1 score and a base severity to the severity reported. */
export function severityFor(score: number): 'low' | 'medium' | 'high' | 'critical' {
  if (score >= 0.95) return 'critical';
  if (score >= 0.8) return 'high';
  if (score >= 0.5) return 'medium';
  return 'low';
}
