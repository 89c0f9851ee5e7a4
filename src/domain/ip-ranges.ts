/**
 * Which IP addresses an outbound request from Warden may reach: the classifier of the SSRF guard
 * (policy lint refuses a literal address at load, the check client every resolved address at request
 * time). Pure text in, verdict out: no `node:net`, so the core may use it.
 */

/** A special-purpose IPv4 block (RFC 6890 and the IANA registry) that is not globally reachable. */
const V4_RANGES: readonly (readonly [number, number, string])[] = [
  [0x00000000, 8, 'unspecified ("this network")'],
  [0x0a000000, 8, 'private'],
  [0x64400000, 10, 'shared address space (carrier-grade NAT)'],
  [0x7f000000, 8, 'loopback'],
  [0xa9fe0000, 16, 'link-local'],
  [0xac100000, 12, 'private'],
  [0xc0000000, 24, 'IETF protocol assignment'],
  [0xc0000200, 24, 'documentation'],
  [0xc0a80000, 16, 'private'],
  [0xc6120000, 15, 'benchmarking'],
  [0xc6336400, 24, 'documentation'],
  [0xcb007100, 24, 'documentation'],
  [0xe0000000, 4, 'multicast'],
  [0xf0000000, 4, 'reserved'],
];

/** Parses a dotted quad (`a.b.c.d`, decimal, no leading zeros): the form URL and DNS answers give. */
function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Parses an IPv6 address (`::` compression, a trailing dotted quad) into eight 16-bit groups. */
function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9a-f:.]+$/i.test(text) || text.length > 45) return undefined;
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    // `::ffff:1.2.3.4` leaves `::ffff`, `::1.2.3.4` leaves `::`.
    const prefix = body.slice(0, lastColon + 1);
    body = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
}

function v4Range(n: number): string | undefined {
  for (const [base, bits, name] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === base) return name;
  }
  return undefined;
}

/** The IPv4 address in groups `i` and `i + 1`. */
const v4At = (g: readonly number[], i: number): number => ((g[i]! << 16) >>> 0) + g[i + 1]!;

function v6Range(g: readonly number[]): string | undefined {
  const zeroUpTo = (k: number) => g.slice(0, k).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // Addresses that carry an IPv4 address are judged by it: mapped, NAT64, 6to4, and the deprecated compatible form.
  if (zeroUpTo(5) && g[5] === 0xffff) return v4Range(v4At(g, 6));
  if (zeroUpTo(6)) return v4Range(v4At(g, 6)) ?? 'IPv4-compatible (deprecated)';
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Range(v4At(g, 6));
  if (g[0] === 0x2002) return v4Range(v4At(g, 1));
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local (deprecated)';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  if (g[0] === 0x2001 && g[1] === 0x0db8) return 'documentation';
  // Teredo hides its IPv4 address; there is no reason for a status check to sit behind one.
  if (g[0] === 0x2001 && g[1] === 0) return 'Teredo tunnel';
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return 'discard-only';
  return undefined;
}

/**
 * The special-purpose range an IP address falls in (`'loopback'`, `'private'`, `'link-local'`…),
 * `'not an IP address'` when the text is none, or undefined for a globally reachable address.
 * Takes the dotted-quad and IPv6 text forms, an IPv6 one with or without brackets (a zone id
 * such as `%eth0` makes it link-local whatever the address).
 * @example specialRange('10.1.2.3') // 'private'
 * @example specialRange('[::ffff:127.0.0.1]') // 'loopback'
 * @example specialRange('93.184.216.34') // undefined
 */
export function specialRange(ip: string): string | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (bare.includes('%')) return 'link-local';
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return v4Range(v4);
  const v6 = parseIPv6(bare);
  return v6 === undefined ? 'not an IP address' : v6Range(v6);
}

/** Whether `ip` is a globally reachable IP address (not loopback, private, link-local, reserved…). */
export function isPublicAddress(ip: string): boolean {
  return specialRange(ip) === undefined;
}

/** Whether a host, as `new URL` gives `hostname`, is an IP address literal rather than a DNS name. */
export function isAddressLiteral(hostname: string): boolean {
  return (hostname.startsWith('[') && hostname.endsWith(']')) || parseIPv4(hostname) !== undefined;
}

/** `localhost` and its subdomains, which resolvers answer with loopback without asking DNS (RFC 6761). */
export function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}
