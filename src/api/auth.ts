import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WardenError, isWardenError, newAuditEvent, type AuditSink, type Clock } from '../domain/index.js';
import { accessOf, actorOf, mayCall, type Credential, type IdentityService } from '../identity/index.js';
import { rateLimitedError, type AuthFailureLimiter } from '../identity/index.js';
import { isApiRequest } from './api-path.js';
import type { WireError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every `/api/*` request that passed it. */
    credential?: Credential;
  }
}


export interface AuthDeps {
  identity: Pick<IdentityService, 'authenticate'>;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  failures?: AuthFailureLimiter | undefined;
}

const CHALLENGE = 'Bearer realm="warden"';

function refuse(reply: FastifyReply, status: number, body: WireError, challenge?: string): FastifyReply {
  if (challenge) void reply.header('www-authenticate', challenge);
  return reply.status(status).type('application/json').send(body);
}

/** The credential the hook attached; a route under `/api/` never runs without one. */
export function credentialOf(req: FastifyRequest): Credential {
  if (!req.credential) throw new WardenError('internal', 'a route ran without a credential');
  return req.credential;
}

/** Where a gated call came from, for the refusal's audit event. */
export interface Caller {
  /** Absent for a surface with no network peer (`warden mcp` over stdio). */
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** The GraphQL field that asked, when the call came through `/api/graphql` rather than the route itself. */
  graphqlField?: string;
}

/**
 * The route x role gate (ROUTE_ACCESS) for one route: returns when one of the credential's roles may
 * call it; else appends `auth.route.denied` naming the actor and throws `auth.forbidden`. The
 * authentication hook runs it for every `/api/*` request, and each GraphQL field for the REST route
 * it answers like, so both refuse the same callers with the same words.
 */
export async function passGate(deps: Pick<AuthDeps, 'audit' | 'clock'>, credential: Credential, method: string, route: string, caller: Caller): Promise<void> {
  const access = accessOf(method, route);
  const roles = credential.grants.map((g) => g.role);
  if (access && mayCall(access, roles)) return;
  await deps.audit.append([
    newAuditEvent(
      {
        tenantId: credential.tenantId,
        scope: credential.tenantId,
        category: 'auth',
        type: 'auth.route.denied',
        severity: 'low',
        outcome: 'denied',
        actor: actorOf(credential, { ip: caller.ip, userAgent: caller.userAgent }),
        target: { kind: 'route', name: `${method} ${route}` },
        details: { roles, allowed: access ? [...access.roles] : [], ...(caller.graphqlField ? { graphqlField: caller.graphqlField } : {}) },
      },
      deps.clock.now(),
    ),
  ]);
  throw new WardenError(
    'auth.forbidden',
    access ? `\`${method} ${route}\` needs one of the roles ${access.roles.map((r) => `\`${r}\``).join(', ')}; this credential holds ${roles.map((r) => `\`${r}\``).join(', ') || 'none'}` : `\`${method} ${route}\` is not in the authorization table, so nobody may call it`,
  );
}

/**
 * Authenticates every `/api/*` request (a Warden token or an OIDC JWT as `Authorization: Bearer`)
 * and checks the route against the route x role table before any handler or body parsing runs. A
 * registered route missing from the table is refused: a new route is closed until someone says who
 * may call it. Routes outside `/api/` (health, readiness) are open.
 */
export function authenticateRequests(app: FastifyInstance, deps: AuthDeps): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!isApiRequest(req)) return;
    const ip = req.ip;
    const wait = deps.failures?.blocked(ip);
    if (wait !== undefined) {
      void reply.header('retry-after', String(wait));
      const e = rateLimitedError(wait);
      return refuse(reply, 429, { error: { code: e.code, message: e.message, ...(e.help ? { help: e.help } : {}) } });
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+([^\s]+)\s*$/i.exec(header) : null;
    if (!match) {
      deps.failures?.failed(ip);
      return refuse(
        reply,
        401,
        { error: { code: 'auth.required', message: 'this route needs a bearer token', help: 'send `Authorization: Bearer <token>`; `warden token create` makes one, and `warden serve` printed a bootstrap token on its first start' } },
        CHALLENGE,
      );
    }
    let credential: Credential;
    try {
      credential = await deps.identity.authenticate(match[1]!);
    } catch (err) {
      if (!isWardenError(err) || err.code !== 'auth.invalid_token') throw err;
      deps.failures?.failed(ip);
      return refuse(reply, 401, { error: { code: err.code, message: err.message, ...(err.help ? { help: err.help } : {}) } }, `${CHALLENGE}, error="invalid_token"`);
    }
    // A success does not clear the address's failures: one valid token must not buy unlimited guesses.
    req.credential = credential;
    const route = req.routeOptions.url;
    // No route matched: the not-found handler answers, after authentication (no route map for strangers).
    if (route === undefined) return;
    try {
      await passGate(deps, credential, req.method, route, { ip, userAgent: req.headers['user-agent'] });
    } catch (err) {
      if (!isWardenError(err) || err.code !== 'auth.forbidden') throw err;
      return refuse(reply, 403, { error: { code: err.code, message: err.message } });
    }
  });
}
