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
  for (const f of findings) {
    if (f.path === undefined) continue;
    const list = byPath.get(f.path);
    if (list) list.push(f);
    else byPath.set(f.path, [f]);
  }
  const leaf = (v: unknown, path: string): unknown => {
    if (typeof v !== 'string') return v;
    const fs = byPath.get(path);
    return fs ? redact(v, fs, options) : v;
  };
  if (Array.isArray(value) || (value !== null && typeof value === 'object')) {
    // INVARIANT: iterative, with an explicit stack, so no nesting depth can overflow the call stack.
    const copy = (v: object): Record<string | number, unknown> => (Array.isArray(v) ? new Array<unknown>(v.length) : {}) as Record<string | number, unknown>;
    const out = copy(value);
    const stack: Array<{ from: object; to: Record<string | number, unknown>; path: string }> = [{ from: value, to: out, path: root }];
    while (stack.length > 0) {
      const { from, to, path } = stack.pop()!;
      const entries: Array<[string | number, unknown, string]> = Array.isArray(from) ? from.map((x, i) => [i, x, `${path}[${i}]`]) : Object.entries(from).map(([k, x]) => [k, x, joinPath(path, k)]);
      for (const [k, x, p] of entries) {
        let v: unknown;
        if (x !== null && typeof x === 'object') {
          v = copy(x);
          stack.push({ from: x, to: v as Record<string | number, unknown>, path: p });
        } else v = leaf(x, p);
        // defineProperty, not assignment: a `__proto__` key stays an own property, as Object.fromEntries keeps it.
        Object.defineProperty(to, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }
  return leaf(value, root);
}

/** Appends a key to a JSON path: `.key` for identifiers, `["key"]` otherwise. */
export function joinPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
