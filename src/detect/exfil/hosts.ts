// Browsers end an authority at `\` as well as `/ ? #` (the WHATWG URL parser treats `\` as `/` in
// http(s) URLs), so `https://evil.example\@docs.example.com/` goes to evil.example.
const AUTHORITY_END = '/\\?#';
// The start of an authority: `//` or any mix of slashes and backslashes.
const SLASHES = /[/\\]{2}/;
// An authority we can judge: a plain DNS name or IPv4 address with an optional port. Anything else
// (userinfo, percent-escapes, entities, brackets, spaces) is odd, and odd is never allowed.
const PLAIN_AUTHORITY = /^([a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::[0-9]{0,5})?$/;

/** The authority (`user@host:port`) of an absolute or protocol-relative URL, as written; undefined when there is none. */
export function authorityOf(url: string): string | undefined {
  const at = url.search(SLASHES);
  if (at < 0) return undefined;
  let end = at + 2;
  while (end < url.length && !AUTHORITY_END.includes(url[end]!)) end++;
  return url.slice(at + 2, end);
}

/** The host of an absolute or protocol-relative URL, lower-cased; undefined when there is none. */
export function hostOf(url: string): string | undefined {
  const authority = authorityOf(url);
  if (authority === undefined) return undefined;
  const host = authority.slice(authority.lastIndexOf('@') + 1).replace(/:[0-9]*$/, '');
  return host === '' ? undefined : host.toLowerCase();
}

/** True when `host` is one of `allowed` or a subdomain of one. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  if (!PLAIN_AUTHORITY.test(h) || h.includes('..')) return false;
  return allowed.some((a) => h === a || h.endsWith(`.${a}`));
}

/**
 * True when the URL's destination is on the allow-list. Fail-closed: a URL without an authority, or
 * whose authority is anything but `host[:port]` (userinfo, escapes, stray characters), is not allowed.
 */
export function urlAllowed(url: string, allowed: readonly string[]): boolean {
  const authority = authorityOf(url)?.toLowerCase();
  if (authority === undefined) return false;
  const plain = PLAIN_AUTHORITY.exec(authority);
  return plain !== null && hostAllowed(plain[1]!, allowed);
}

/** The longest query or path value of a URL, a cheap measure of how much data it can carry. */
export function longestDataPart(url: string): string {
  let best = '';
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const parts = [...path.split('/').slice(3), ...(q >= 0 ? url.slice(q + 1).split('&').map((kv) => kv.slice(kv.indexOf('=') + 1)) : [])];
  for (const p of parts) if (p.length > best.length) best = p;
  return best;
}
