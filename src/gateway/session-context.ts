import type { CallerInfo } from '../checkpoint/index.js';
import type { Action } from '../domain/index.js';
import type { SessionIdentity } from './ports.js';

/** What the checkpoint records about the connection a session's request came over, its tenant and its token. */
export function callerOf(id: SessionIdentity): CallerInfo {
  return {
    ...(id.ip ? { ip: id.ip } : {}),
    ...(id.userAgent ? { userAgent: id.userAgent } : {}),
    ...(id.tenantId !== undefined ? { tenantId: id.tenantId } : {}),
    // As the API names the credential that submitted a decide call (`actorOf`).
    ...(id.token ? { via: { id: `token:${id.token.id}`, name: id.token.name, method: 'token' } } : {}),
    ...(id.sessionId !== undefined ? { sessionId: id.sessionId } : {}),
  };
}

/** The part of every action a session asks for that comes from its identity (scope, agent, principal). */
export function baseAction(id: SessionIdentity): Omit<Action, 'kind'> {
  return { scope: id.scope, agent: { id: id.agentId }, ...(id.principal ? { principal: id.principal } : {}) };
}
