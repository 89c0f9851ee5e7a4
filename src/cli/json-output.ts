/**
 * The value with every object's keys in sorted order (RFC 8785's order), at every depth. The
 * database hands records back in its own key order and the API in its serializer's (required fields
 * first), so the CLI prints JSON in this one order: the same command prints the same text through
 * WARDEN_URL as on the database. Null-prototype objects, so a `__proto__` key an agent put in an
 * event stays a plain key.
 */
export function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(src).sort()) out[k] = sortedKeys(src[k]);
  return out as T;
}

/** A value as `--format json` prints it: keys sorted, two-space indent, one trailing newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(sortedKeys(value), null, 2)}\n`;
}
