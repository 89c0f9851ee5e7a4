import { isApiRequest } from './api-path.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WardenError, canonicalHostName, hostNameOfHeader } from '../domain/index.js';

/** How the HTTP surface is closed: which names it answers to, which origins may call it from a browser. */
export interface HardeningOptions {
  /**
   * Host names (no port) a request's `Host` must name, in any case, IPv6 with or without brackets;
   * `'any'` turns the check off (for a proxy in front that checks `Host` itself).
   * @default LOOPBACK_HOSTS
   */
  allowedHosts: readonly string[] | 'any';
  /** Origins (`https://console.example.com`) allowed to call the API from a browser. @default none */
  corsOrigins: readonly string[];
  /** The server listens with TLS: every response carries `Strict-Transport-Security`. */
  tls: boolean;
  /**
   * A reverse proxy's `X-Forwarded-*` headers are trusted: `X-Forwarded-Host`, when present, must name
   * an allowed host too, and HSTS is sent when `X-Forwarded-Proto` says the client spoke HTTPS.
   * @default false
   */
  trustProxy?: boolean;
}

/** The names a server bound to loopback answers to. */
export const LOOPBACK_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '[::1]']);

// Load balancers and orchestrators probe these by IP address, under whatever Host they like.
const EXEMPT_PATHS: readonly string[] = ['/healthz', '/readyz'];
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type, If-Match';
// A browser script may read these on a cross-origin response: the version for If-Match, the wait after a 429.
const EXPOSED_HEADERS = 'ETag, Retry-After';
const ECHO_MAX = 100;

function echo(value: string): string {
  return value.length > ECHO_MAX ? `${value.slice(0, ECHO_MAX)}…` : value;
}

function addVary(reply: FastifyReply, field: string): void {
  const present = reply.getHeader('vary');
  const list = typeof present === 'string' ? present.split(',').map((f) => f.trim()).filter((f) => f !== '') : [];
  if (!list.some((f) => f === '*' || f.toLowerCase() === field.toLowerCase())) reply.header('Vary', [...list, field].join(', '));
}

function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}

function hostRefused(message: string, name?: string): WardenError {
  const add = name === undefined ? 'add the name clients use' : `if clients reach Warden at \`${echo(name)}\`, add it`;
  return new WardenError('request.host_refused', message, {
    help: `${add} with --public-host (env WARDEN_PUBLIC_HOSTS, comma-separated); a name not configured is refused to stop DNS rebinding (docs/deploy.md)`,
  });
}

/** Why one `Host`-like header value is refused, or undefined when it names an allowed host. */
function checkHost(header: string, value: string | undefined, allowed: ReadonlySet<string>): WardenError | undefined {
  if (value === undefined || value.trim() === '') return hostRefused(`the request has no \`${header}\` header, so it cannot be told from a DNS rebinding attack`);
  const name = hostNameOfHeader(value);
  if (name === undefined) return hostRefused(`the \`${header}\` header \`${echo(value)}\` is not a host name with an optional port`);
  if (!allowed.has(name)) return hostRefused(`this server does not answer to \`${echo(name)}\` (from the \`${header}\` header)`, name);
  return undefined;
}

/**
 * Closes the HTTP surface of `app`; call it first, before any other hook or route:
 * - every request's `Host` must name an allowed host (421 `request.host_refused`), except `/healthz` and `/readyz`;
 * - CORS is closed: no `Access-Control-*` header, and a preflight (`OPTIONS` with `Origin`) answers
 *   403 `request.cors_refused`, unless the origin is configured;
 * - every response carries the security headers (nosniff, no framing, no referrer, a CSP that loads
 *   nothing unless the route set its own, same-origin COOP/CORP), `Cache-Control: no-store` under
 *   `/api` unless the route set one, HSTS over TLS, and no `X-Powered-By` or `Server` banner.
 */
export function hardenHttp(app: FastifyInstance, opts: HardeningOptions): void {
  const allowed = opts.allowedHosts === 'any' ? undefined : new Set(opts.allowedHosts.map((h) => canonicalHostName(h) ?? h.toLowerCase()));
  const origins = new Set(opts.corsOrigins);

  // Why the request is refused, or undefined when it goes on.
  function screen(req: FastifyRequest, reply: FastifyReply): WardenError | undefined {
    if (allowed && !EXEMPT_PATHS.includes(pathOf(req))) {
      const refused = checkHost('Host', req.headers.host, allowed);
      if (refused) return refused;
      const forwarded = opts.trustProxy ? req.headers['x-forwarded-host'] : undefined;
      // Each proxy on the way appends its own; every one of them must name this server.
      for (const value of typeof forwarded === 'string' ? forwarded.split(',') : []) {
        const bad = checkHost('X-Forwarded-Host', value, allowed);
        if (bad) return bad;
      }
    }
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    const allowedOrigin = origins.has(origin);
    if (allowedOrigin) reply.header('Access-Control-Allow-Origin', origin).header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && !allowedOrigin) {
      return new WardenError('request.cors_refused', `cross-origin requests from \`${echo(origin)}\` are not allowed`, {
        help: 'to let a web application at this origin call the API, start Warden with --cors-origin <origin> (env WARDEN_CORS_ORIGINS, comma-separated)',
      });
    }
    return undefined;
  }

  // Callback-style hooks: they run on every request, decisions included, and need no promise there.
  app.addHook('onRequest', (req, reply, done) => {
    const refused = screen(req, reply);
    if (refused) return done(refused);
    if (req.method !== 'OPTIONS' || req.headers.origin === undefined) return done();
    // An allowed preflight is answered here (no route has OPTIONS); `done` is not called, so none runs.
    // Credentials are never allowed: the API takes a bearer token in a header, never a cookie.
    reply
      .status(204)
      .header('Access-Control-Allow-Methods', ALLOWED_METHODS)
      .header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      .header('Access-Control-Max-Age', '600')
      .send();
  });

  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    // A route that serves a page (the console) sets the policy it needs; every other answer is data.
    if (!reply.hasHeader('content-security-policy')) reply.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    if (isApiRequest(req) && !reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
    // Behind a trusted proxy, `req.protocol` is what the client spoke (X-Forwarded-Proto).
    if (opts.tls || req.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000');
    // The answer to a cross-origin request depends on its Origin: a cache must not hand it to another.
    if (origins.size > 0) addVary(reply, 'Origin');
    reply.removeHeader('x-powered-by');
    reply.removeHeader('server');
    done(null, payload);
  });
}
