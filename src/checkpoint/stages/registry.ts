import type { Action, Reason } from '../../domain/index.js';
import type { Pass, PassStage } from '../pass.js';
import { policySetFor, type RegistryPort, type SessionKey } from '../ports.js';

/** What the registry stage hands on: the action with registry facts merged in, or a refusal. */
export interface RegistryOutcome {
  action: Action;
  /** Set when the registry alone refuses the action (suspended agent, blocked tool or server). */
  refusal: Reason | undefined;
}

/**
 * Merges what the registry knows over what the caller claims (the registry wins), and refuses
 * suspended agents and blocked tools before any policy runs.
 */
export async function lookUpRegistry(registry: RegistryPort, action: Action): Promise<RegistryOutcome> {
  const [tool, agent] = await Promise.all([
    action.tool ? registry.findTool(action.tool.server, action.tool.name) : undefined,
    action.agent ? registry.findAgent(action.agent.id) : undefined,
  ]);
  const merged: Action = {
    ...action,
    ...(action.tool && tool ? { tool: { ...action.tool, ...tool } } : {}),
    ...(action.agent && agent ? { agent: { ...action.agent, ...agent } } : {}),
  };
  let refusal: Reason | undefined;
  if (merged.agent?.status === 'suspended') {
    refusal = { policy: 'registry', version: 1, rule: 'agent-suspended', effect: 'deny', message: `agent \`${merged.agent.id}\` is suspended` };
  } else if (merged.tool?.status === 'blocked') {
    refusal = { policy: 'registry', version: 1, rule: 'tool-blocked', effect: 'deny', message: `tool \`${merged.tool.name}\` on server \`${merged.tool.server}\` is blocked in the registry` };
  }
  return { action: merged, refusal };
}

/**
 * registry: merges the registry's facts over the caller's claims and records a refusal for a
 * suspended agent or a blocked tool, and reads the session's recent steps (the facts a session-flow
 * condition decides on). It may not decide anything else, nor read policies.
 */
export const registry: PassStage<'registry'> = {
  name: 'registry',
  async run(pass, deps): Promise<Pass> {
    const tenant = pass.caller?.tenantId;
    const registry = tenant !== undefined && deps.registry.forTenant ? deps.registry.forTenant(tenant) : deps.registry;
    // The set is read here, once for the whole pass: whether it reads sessions decides what to look up.
    const set = policySetFor(deps.policies, tenant);
    const key = deps.sessions && set.readsSession ? sessionKeyOf(pass) : undefined;
    const [{ action, refusal }, session] = await Promise.all([lookUpRegistry(registry, pass.action), key ? deps.sessions!.view(key) : undefined]);
    return { ...pass, set, action, refusal, session };
  },
};

/** The session a pass's action belongs to: its tenant, its agent and the caller's session id. */
export function sessionKeyOf(pass: Pick<Pass, 'caller' | 'action'>): SessionKey | undefined {
  const sessionId = pass.caller?.sessionId;
  const agentId = pass.action.agent?.id;
  if (sessionId === undefined || agentId === undefined) return undefined;
  return { tenantId: pass.caller?.tenantId ?? 'default', agentId, sessionId };
}
