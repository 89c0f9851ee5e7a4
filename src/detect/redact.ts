import type { Finding } from '../domain/index.js';

/** Options for redaction. */
export interface RedactOptions {
  /** Only findings at or above this score are cut out. @default 0 */
  minScore?: number;
  /** Only these categories are cut out. @default every category */
  categories?: readonly Finding['category'][];
}

/**
 * Replaces each finding's span in `text` with `[REDACTED:<category>]`. Overlapping spans merge into one
 * mask named after the highest-scored finding; spans outside the text are clipped.
 */
export function redact(text: string, findings: readonly Finding[], options: RedactOptions = {}): string {
  const min = options.minScore ?? 0;
  const spans = findings
    .filter((f) => f.score >= min && (options.categories === undefined || options.categories.includes(f.category)))
    .map((f) => ({ start: Math.max(0, Math.min(f.start, text.length)), end: Math.max(0, Math.min(f.end, text.length)), category: f.category, score: f.score }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const merged: typeof spans = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      if (s.score > last.score) {
        last.score = s.score;
        last.category = s.category;
      }
    } else merged.push({ ...s });
  }
  let out = '';
  let at = 0;
  for (const s of merged) {
    out += `${text.slice(at, s.start)}[REDACTED:${s.category}]`;
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * Redacts string leaves of a JSON value (tool arguments or results) using findings whose `path` names
 * the leaf (`args.query`, `args.items[0].body`); returns a new value, the input is not changed.
 */
export function redactValue(value: unknown, findings: readonly Finding[], root = 'args', options: RedactOptions = {}): unknown {
  const byPath = new Map<string, Finding[]>();
  for (const f of findings) if (f.path !== undefined) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const fs = byPath.get(path);
      return fs ? redact(v, fs, options) : v;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, joinPath(path, k))]));
    return v;
  };
  return walk(value, root);
}

/** Appends a key to a JSON path: `.key` for identifiers, `["key"]` otherwise. */
export function joinPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
