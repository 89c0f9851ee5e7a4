import { lookup as dnsLookup } from 'node:dns/promises';
import { canonicalHostName, isAddressLiteral, isLocalhostName, specialRange } from '../domain/index.js';

/** One resolved address, as `dns.lookup(host, { all: true })` gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has. */
export type ResolveHost = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver, every address (A and AAAA). */
export const systemResolve: ResolveHost = (host) => dnsLookup(host, { all: true, verbatim: true });

/** The address a request may connect to, or why it may not go out at all. */
export type Vetted = { ok: true; address: ResolvedAddress } | { ok: false; error: string };

/**
 * The SSRF guard at request time: resolves the URL's host (an address literal is its own answer)
 * and refuses it when any address is loopback, private, link-local or otherwise not public, unless
 * the host is allow-listed. Every address is judged, not only the first, so a name that answers a
 * public and a private address cannot win a race to the private one; the request then connects to
 * the address judged here and resolves nothing again (no DNS rebinding between check and use).
 */
export async function vetHost(url: URL, allowed: ReadonlySet<string>, resolve: ResolveHost): Promise<Vetted> {
  const host = canonicalHostName(url.hostname) ?? url.hostname.toLowerCase();
  const listed = allowed.has(host);
  if (!listed && isLocalhostName(host)) return { ok: false, error: `host \`${host}\` is localhost, which is not allow-listed (SSRF guard)` };
  let addresses: ResolvedAddress[];
  if (isAddressLiteral(host)) addresses = [host.startsWith('[') ? { address: host.slice(1, -1), family: 6 } : { address: host, family: 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { ok: false, error: `host \`${host}\` does not resolve (${(err as { code?: string }).code ?? String(err)})` };
    }
    if (addresses.length === 0) return { ok: false, error: `host \`${host}\` has no address` };
  }
  if (!listed) {
    for (const a of addresses) {
      const range = specialRange(a.address);
      if (range !== undefined) return { ok: false, error: `host \`${host}\` resolves to \`${a.address}\`, a ${range} address, and is not allow-listed (SSRF guard)` };
    }
  }
  return { ok: true, address: addresses[0]! };
}
