/**
 * The value with every string (keys included) made well-formed UTF-16, each unpaired surrogate
 * replaced by U+FFFD; the same reference when nothing needed it. Iterative, so a deep value cannot
 * overflow the stack. RFC 8785 and PostgreSQL's jsonb both refuse unpaired surrogates, so a value an
 * upstream sent with one must be repaired before it can be digested or kept.
 */
export function wellFormedValue(value: unknown): unknown {
  if (!needsRepair(value)) return value;
  const fix = (v: unknown): unknown => (typeof v === 'string' ? v.toWellFormed() : v);
  const root: { v: unknown } = { v: undefined };
  const stack: Array<{ src: unknown; put: (v: unknown) => void }> = [{ src: value, put: (v) => (root.v = v) }];
  while (stack.length > 0) {
    const { src, put } = stack.pop()!;
    if (src === null || typeof src !== 'object') {
      put(fix(src));
      continue;
    }
    if (Array.isArray(src)) {
      const out: unknown[] = new Array<unknown>(src.length);
      put(out);
      src.forEach((item, i) => stack.push({ src: item, put: (v) => (out[i] = v) }));
      continue;
    }
    const out: Record<string, unknown> = {};
    put(out);
    for (const [k, item] of Object.entries(src)) stack.push({ src: item, put: (v) => (out[k.toWellFormed()] = v) });
  }
  return root.v;
}

function needsRepair(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return true;
    } else if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) for (const item of v) stack.push(item);
      else
        for (const [k, item] of Object.entries(v)) {
          if (!k.isWellFormed()) return true;
          stack.push(item);
        }
    }
  }
  return false;
}
