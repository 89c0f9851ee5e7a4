/** What a masked secret prints as. */
export const MASK = '****';

/** A URL with its password masked (`postgres://warden:****@db/warden`); not a URL: masked whole. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = MASK;
    return u.toString();
  } catch {
    return MASK;
  }
}

// Keys whose values are secrets wherever they sit in a resolved configuration (warden config check).
const SECRET_KEYS = new Set(['token', 'checkSecret']);
const URL_KEYS = new Set(['databaseUrl', 'sessionRedisUrl', 'redis']);
// Maps whose every value may be a secret: a server's environment and its HTTP headers.
const SECRET_MAPS = new Set(['env', 'headers']);

/** A copy of a resolved configuration fit to print: passwords in URLs, tokens, secrets, server env and headers masked. */
export function maskSecrets(value: unknown, key?: string): unknown {
  if (value === undefined || value === null) return value;
  if (key !== undefined && SECRET_KEYS.has(key)) return MASK;
  if (key !== undefined && URL_KEYS.has(key) && typeof value === 'string') return maskUrl(value);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (typeof value === 'object') {
    if (key !== undefined && SECRET_MAPS.has(key)) return Object.fromEntries(Object.keys(value).map((k) => [k, MASK]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  return value;
}
