import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// canonicalize ships CJS with a default export; under NodeNext its type arrives as a namespace.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** RFC 8785 (JCS) canonical JSON: sorted keys, ES number form, no whitespace. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('value has no JSON form');
  return out;
}

/** `sha256:` + hex digest of the canonical JSON of a value. */
export function digestJson(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}
