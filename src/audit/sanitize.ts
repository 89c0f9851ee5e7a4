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

// JS enumerates array-index keys first, in numeric order, whatever order they were added in.
const INDEX_KEY = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * `sanitizeForLog` for the chain: the same copy (a `__proto__` key is dropped, as that copy drops
 * it), with every object's keys added in RFC 8785 order, so that JSON.stringify of a member
 * prints its canonical JSON natively. `ordered` is false when some object has an array-index
 * key, which JS enumerates first whatever the order; the caller then prints with `jcs`.
 * Throws a TypeError for a value canonical JSON refuses (a non-finite number, a bigint, a function).
 */
export function sanitizeSorted<T>(value: T): { value: T; ordered: boolean } {
  let ordered = true;
  const clean = (v: unknown): unknown => {
    switch (typeof v) {
      case 'string':
        return cleanString(v);
      case 'number':
        if (!Number.isFinite(v)) throw new TypeError(`${v} has no JSON form`);
        return v;
      case 'object': {
        if (v === null) return null;
        if (Array.isArray(v)) return v.map(clean);
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        let renamed = false;
        for (const k of keys) if (!k.isWellFormed() || k.includes('\u0000')) renamed = true;
        // Two keys cleaned to one: the later wins, as in sanitizeForLog.
        const byKey = renamed ? new Map(keys.map((k) => [cleanString(k), o[k]])) : undefined;
        const sorted = byKey ? [...byKey.keys()].sort() : keys.sort();
        const out: Record<string, unknown> = {};
        for (const k of sorted) {
          if (k === '__proto__') continue;
          if (ordered && k.charCodeAt(0) <= 57 && INDEX_KEY.test(k) && Number(k) < 4_294_967_295) ordered = false;
          out[k] = clean(byKey ? byKey.get(k) : o[k]);
        }
        return out;
      }
      case 'bigint':
      case 'function':
        throw new TypeError(`a ${typeof v} has no JSON form`);
      default:
        return v;
    }
  };
  return { value: clean(value) as T, ordered };
}
