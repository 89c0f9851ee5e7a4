/** The host of an absolute or protocol-relative URL, lower-cased; undefined when there is none. */
export function hostOf(url: string): string | undefined {
  const at = url.indexOf('//');
  if (at < 0) return undefined;
  let end = at + 2;
  while (end < url.length && !'/?#'.includes(url[end]!)) end++;
  const authority = url.slice(at + 2, end);
  const host = authority.slice(authority.lastIndexOf('@') + 1).replace(/:[0-9]*$/, '');
  return host === '' ? undefined : host.toLowerCase();
}

/** True when `host` is one of `allowed` or a subdomain of one. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => host === a || host.endsWith(`.${a}`));
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
