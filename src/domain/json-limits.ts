/**
 * How deep a caller's JSON may nest (objects and arrays), at every edge: REST bodies and JSON-RPC
 * params. Deeper input is refused before anything walks it.
 * @default 64
 */
export const MAX_JSON_DEPTH = 64;

/** Longest piece of a caller's key that an error message repeats; the rest is cut with `…`. */
const MAX_ECHOED_KEY = 40;

/** A caller's name or key as an error message may echo it: well-formed and cut after 40 characters. */
export function echoText(text: string): string {
  const wf = text.isWellFormed() ? text : text.toWellFormed();
  return wf.length > MAX_ECHOED_KEY ? `${wf.slice(0, MAX_ECHOED_KEY)}…` : wf;
}

/** A key as a JSON pointer in an error message: {@link echoText}, escaped as a pointer segment. */
export function echoKey(key: string): string {
  return echoText(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The nesting depth of JSON text, counted without parsing it, stopping as soon as it passes `max`:
 * `undefined` when the text stays within `max`, else the offset of the bracket that went too deep.
 * Strings are skipped, so brackets inside them do not count.
 */
export function jsonTextTooDeep(text: string, max: number = MAX_JSON_DEPTH): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/**
 * The first part of a caller's JSON value that Warden cannot decide on, audit and forward as it
 * came, or `undefined`: nesting deeper than `maxDepth`, a number that is not finite (`1e999` parses
 * to `Infinity`), a string or key with an unpaired UTF-16 surrogate (no UTF-8 encoding, so no hash
 * and no storage), a `__proto__` key, or something that is not JSON at all. The walk is iterative,
 * so hostile nesting cannot exhaust the stack. `path` is the JSON pointer of `value` in the request.
 */
export function jsonValueIssue(value: unknown, opts: { maxDepth?: number; path?: string } = {}): { path: string; message: string } | undefined {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: opts.path ?? '', depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    // A deep path is cut short in the message; its first segments say where. Computed only for a
    // problem: reading a long rope's length flattens it, which per level would be quadratic.
    const at = (): string => (path === '' ? '/' : path.length > 120 ? `${path.slice(0, 120)}…` : path);
    switch (typeof v) {
      case 'string':
        if (!v.isWellFormed()) return { path: at(), message: 'contains an unpaired UTF-16 surrogate; send well-formed Unicode text' };
        continue;
      case 'number':
        if (!Number.isFinite(v)) return { path: at(), message: 'must be a finite number (a literal such as `1e999` overflows to infinity)' };
        continue;
      case 'boolean':
      case 'undefined':
        continue;
      case 'object':
        break;
      default:
        return { path: at(), message: 'is not a JSON value' };
    }
    if (v === null) continue;
    if (depth >= maxDepth) return { path: at(), message: `nests deeper than ${maxDepth} levels of objects and arrays` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}/${i}`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      if (k === '__proto__') return { path: at(), message: 'has a `__proto__` key, which Warden refuses because it can rewrite object prototypes' };
      if (!k.isWellFormed()) return { path: `${at() === '/' ? '' : at()}/${echoKey(k)}`, message: 'is a key with an unpaired UTF-16 surrogate; send well-formed Unicode text' };
      stack.push({ v: (v as Record<string, unknown>)[k], path: `${path}/${echoKey(k)}`, depth: depth + 1 });
    }
  }
  return undefined;
}
