import { hostname, userInfo } from 'node:os';
import type { AuditEvent } from '../domain/index.js';
import type { Credential } from '../identity/index.js';

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
