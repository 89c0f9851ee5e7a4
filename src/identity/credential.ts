import type { Grant } from './roles.js';

/**
 * Who is calling, as authentication established it. Every request to the control plane carries one;
 * everything the request reads or changes is in `tenantId`, and what it may do comes from `grants`.
 */
export interface Credential {
  tenantId: string;
  /** How it was established. */
  method: 'token' | 'oidc' | 'local';
  /** The token id, the OIDC subject, or the local operator. */
  id: string;
  /** A display name: the token's name, the OIDC name or email claim. */
  name: string;
  grants: readonly Grant[];
  /** The principal this credential is (a person's id); decisions made with it are on their behalf. */
  principal?: string | undefined;
  /** For an `agent` credential: the agent it acts as. */
  agentId?: string | undefined;
  /** When it stops being valid (ISO time), if ever. */
  expiresAt?: string | undefined;
  /** OIDC only: when the person last authenticated to the issuer (`auth_time`, else `iat`); approvals that ask for re-authentication read it. */
  authenticatedAt?: string | undefined;
}

/** The person a credential speaks for: its principal, else the credential itself (`token:…`). */
export function personOf(c: Credential): string {
  return c.principal ?? actorOf(c).id;
}

/** The actor of an audit event made with this credential. */
export function actorOf(c: Credential, extra: { ip?: string | undefined; userAgent?: string | undefined } = {}): {
  type: 'user' | 'service' | 'agent';
  id: string;
  name: string;
  authMethod: string;
  ip?: string;
  userAgent?: string;
} {
  const machine = c.grants.some((g) => g.role === 'agent') ? 'agent' : c.grants.some((g) => g.role === 'enforcer') ? 'service' : 'user';
  return {
    type: machine,
    id: c.method === 'token' ? `token:${c.id}` : c.method === 'oidc' ? `oidc:${c.id}` : `local:${c.id}`,
    name: c.name,
    authMethod: c.method,
    ...(extra.ip ? { ip: extra.ip } : {}),
    ...(extra.userAgent ? { userAgent: extra.userAgent } : {}),
  };
}
