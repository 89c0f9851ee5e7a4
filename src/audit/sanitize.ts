/**
 * Makes every string in an event storable as jsonb: NUL and unpaired surrogates become U+FFFD.
 * Runs before hashing, so the chain covers exactly what is stored, and one hostile string cannot
 * fail a whole batch of other requests' events.
 */
export function sanitizeForLog<T>(value: T): T {
  return clean(value) as T;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what must be replaced
const NUL = /\u0000/g;

function cleanString(s: string): string {
  const wf = s.isWellFormed() ? s : s.toWellFormed();
  return wf.includes('\u0000') ? wf.replace(NUL, '\uFFFD') : wf;
}

function clean(v: unknown): unknown {
  if (typeof v === 'string') return cleanString(v);
  if (Array.isArray(v)) return v.map(clean);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[cleanString(k)] = clean(x);
    return out;
  }
  return v;
}
