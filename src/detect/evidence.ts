/** Redacts a matched value for `Finding.evidence`: keeps a short prefix and the length, never the value. */
export function maskEvidence(value: string, keep = 4): string {
  const v = value.replace(/[\r\n\t]+/g, ' ');
  if (v.length <= keep * 2) return `${'*'.repeat(Math.min(v.length, 8))} (${v.length} chars)`;
  return `${v.slice(0, keep)}…${'*'.repeat(4)} (${v.length} chars)`;
}

/** Quotes a short excerpt of non-secret text (injection phrases, hosts) for `Finding.evidence`. */
export function excerpt(value: string, max = 80): string {
  // Only the head shows, so a long value (a whole text, for the model's finding) is collapsed from a head a
  // few times `max` long: collapsing a head gives a head of the collapsed value (a whitespace run cut at the
  // end still reads as one space), and when it holds more than `max` chars past its spaces, it decides alone.
  const reach = 4 * max + 16;
  if (max >= 1 && value.length > reach) {
    const head = value.slice(0, reach).replace(/\s+/g, ' ').trimStart();
    if (head.trimEnd().length > max) return `${head.slice(0, max - 1)}…`;
  }
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
