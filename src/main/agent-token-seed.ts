import type { AgentBinding } from '../gateway/transports/http-identity.js';
import type { AgentTokenSeedResult, IdentityService } from '../identity/identity-service.js';

/** An agent of a gateway file: its binding and, when the file holds one, its static token (the seed). */
export interface SeededAgent extends AgentBinding {
  token?: string | undefined;
}

/** The agents of a gateway file whose static tokens are imported into the identity store at start. */
export interface AgentTokenSeeds {
  /** The file they come from: named in each import's audit event (`details.seededFrom`). */
  source: string;
  agents: readonly SeededAgent[];
}

/**
 * Imports each static agent token of a gateway file into the identity store as an `agent` token of
 * `tenant`, granted at the agent's scope (else the gateway's), for the agent's principal: only for an
 * agent that holds no token in the store yet, so it is idempotent across restarts and replicas and a
 * revoked token stays revoked. Logs what it did; a token left out is a warning.
 */
export async function seedAgentTokens(
  identity: Pick<IdentityService, 'seedAgentToken'>,
  opts: AgentTokenSeeds & { tenant: string; scope: string; logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void } },
): Promise<AgentTokenSeedResult[]> {
  const out: AgentTokenSeedResult[] = [];
  for (const agent of opts.agents) {
    if (agent.token === undefined) continue;
    const r = await identity.seedAgentToken({
      tenantId: opts.tenant,
      agentId: agent.id,
      token: agent.token,
      principal: agent.principal?.id,
      scope: agent.scope ?? opts.scope,
      source: opts.source,
    });
    const where = { agent: agent.id, file: opts.source };
    if (r.outcome === 'imported') opts.logger.info({ ...where, token: r.info.prefix }, 'imported the static token of an agent into the identity store; manage it with `warden token` from now on');
    else if (r.outcome === 'skipped') opts.logger.warn({ ...where, reason: r.reason }, 'the static token of an agent was not imported and does not authenticate');
    else if (r.info.revokedAt !== null) opts.logger.warn({ ...where, token: r.info.prefix }, 'the static token of an agent was revoked and does not authenticate; remove it from the file');
    out.push(r);
  }
  return out;
}
