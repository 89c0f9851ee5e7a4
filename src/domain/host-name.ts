// A DNS label: letters, digits, hyphens inside, underscores (Docker Compose service names carry them).
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
// What the WHATWG URL parser may see between brackets: no zone id (`%eth0`), nothing else.
const IPV6_TEXT = /^[0-9a-f:.]+$/;

/**
 * A host name in the one form the `Host` header and the `--public-host` setting are compared in:
 * lowercase, without a trailing dot, an IPv6 address in brackets and compressed (`[::1]`); undefined
 * when it is neither a DNS name, an IPv4 address nor an IPv6 address (a port, a scheme, a path).
 * @example canonicalHostName('LocalHost.') // 'localhost'
 * @example canonicalHostName('0:0:0:0:0:0:0:1') // '[::1]'
 */
export function canonicalHostName(name: string): string | undefined {
  const lower = name.toLowerCase();
  const bracketed = lower.startsWith('[') && lower.endsWith(']');
  if (bracketed || lower.includes(':')) {
    const inner = bracketed ? lower.slice(1, -1) : lower;
    if (!IPV6_TEXT.test(inner)) return undefined;
    try {
      return new URL(`http://[${inner}]/`).hostname;
    } catch {
      return undefined;
    }
  }
  const bare = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  return NAME.test(bare) ? bare : undefined;
}

/**
 * The host name of an HTTP `Host` (or `X-Forwarded-Host`) value, `name[:port]` or `[ipv6][:port]`, in
 * {@link canonicalHostName}'s form; undefined when the value is malformed. The port is not returned:
 * a proxy in front may listen on another port than Warden, and a port never makes a name safe.
 */
export function hostNameOfHeader(value: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{0,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  if (m[2] !== undefined && m[2] !== '' && Number(m[2]) > 65535) return undefined;
  return canonicalHostName(m[1]!);
}
