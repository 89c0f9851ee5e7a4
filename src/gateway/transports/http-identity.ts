import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../domain/index.js';
import type { SessionIdentity } from '../ports.js';

/** An agent allowed to connect over HTTP, and the bearer token that proves it. */
export interface AgentCredential {
  id: string;
  token: string;
  principal?: Principal | undefined;
  /** The agent's own scope; defaults to the gateway's. */
  scope?: string | undefined;
}

/** How HTTP sessions are identified. */
export interface HttpIdentityOptions {
  /** The scope sessions act in unless a narrower one is asked for. */
  scope: string;
  agents: readonly AgentCredential[];
  /**
   * Accept `X-Warden-Agent: <id>` without a token. Only for a gateway bound to a trusted network.
   * @default false
   */
  trustAgentHeader?: boolean | undefined;
}

/** A scope equal to or below another (`a/b` is under `a`, `ab` is not). */
export function isUnderScope(scope: string, base: string): boolean {
  return scope === base || scope.startsWith(`${base}/`);
}

const SCOPE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Resolves an HTTP request's identity from `Authorization: Bearer <token>`. An `X-Warden-Scope`
 * header may narrow the scope to a descendant of the agent's; it can never widen it.
 */
export function createHttpIdentity(opts: HttpIdentityOptions): (req: IncomingMessage) => SessionIdentity | undefined {
  const tokens = opts.agents.map((a) => ({ agent: a, token: Buffer.from(a.token) }));
  return (req) => {
    const auth = req.headers.authorization;
    let agent: AgentCredential | undefined;
    let via = 'token';
    if (auth?.startsWith('Bearer ')) {
      const given = Buffer.from(auth.slice(7).trim());
      agent = tokens.find((t) => t.token.length === given.length && timingSafeEqual(t.token, given))?.agent;
      if (!agent) return undefined;
    } else if (opts.trustAgentHeader) {
      const id = header(req, 'x-warden-agent');
      if (!id) return undefined;
      agent = opts.agents.find((a) => a.id === id) ?? { id, token: '' };
      via = 'header';
    } else {
      return undefined;
    }
    const base = agent.scope ?? opts.scope;
    const asked = header(req, 'x-warden-scope');
    if (asked !== undefined && (!SCOPE.test(asked) || !isUnderScope(asked, base))) return undefined;
    const ua = req.headers['user-agent'];
    return {
      agentId: agent.id,
      scope: asked ?? base,
      principal: agent.principal,
      via,
      ...(req.socket.remoteAddress ? { ip: req.socket.remoteAddress } : {}),
      ...(ua ? { userAgent: ua } : {}),
    };
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
