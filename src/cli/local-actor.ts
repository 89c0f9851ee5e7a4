import { hostname, userInfo } from 'node:os';
import { PERSON_ROLES, type AuditEvent } from '../domain/index.js';
import type { Credential, TokenInfo } from '../identity/index.js';

/**
 * The actor of a change the CLI makes straight in the database (no `WARDEN_URL`): the operating
 * system account, which holds the database itself and so every role. Changes made through a server
 * name the token or OIDC subject instead.
 */
export function localActor(): AuditEvent['actor'] {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container with an arbitrary uid): the uid still names the account.
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { type: 'user', id: `local:${user}@${hostname()}`, name: user, authMethod: 'local' };
}

/** The local operator as a credential: the account holds the database, so it holds `owner` over the tenant. */
export function localCredential(tenantId: string): Credential {
  const actor = localActor();
  return { tenantId, method: 'local', id: actor.id.replace(/^local:/, ''), name: actor.name ?? actor.id, grants: [{ role: 'owner' }] };
}

/**
 * The local operator answering for a named person (`warden approvals approve --as alice` on the
 * database). The operator's own `owner` grant is not used: an approval rule names approvers by role
 * or principal, and the operator is neither, so the person must be named. Their roles are the person
 * roles their live API tokens hold in the tenant, so every eligibility rule (role at the request's
 * scope, never the requester or the agent's owner, one answer per person) judges that person; the
 * audit event names the operating system account as the actor and the person as `by`.
 */
export function localPersonCredential(tenantId: string, principal: string, tokens: readonly TokenInfo[], now: Date): Credential {
  const operator = localCredential(tenantId);
  const live = tokens.filter((t) => t.principal === principal && t.revokedAt === null && (t.expiresAt === null || Date.parse(t.expiresAt) > now.getTime()) && (PERSON_ROLES as readonly string[]).includes(t.role));
  return { ...operator, name: `${principal} (by ${operator.name})`, principal, grants: live.map((t) => (t.scope === null ? { role: t.role } : { role: t.role, scope: t.scope })) };
}
