/**
 * The roles of the control plane. People hold the first seven; `agent` is an agent's own credential
 * (it acts as that agent) and `enforcer` a trusted enforcement point (a gateway or SDK host) that may
 * assert the principal, agent and time of the actions it forwards. Defined here, not in identity,
 * because policies name them too (an approval's `approvers.roles`).
 */
export const ROLES = ['owner', 'admin', 'policy_author', 'approver', 'auditor', 'analyst', 'viewer', 'agent', 'enforcer'] as const;
export type Role = (typeof ROLES)[number];

/** The roles a person may hold: the ones an approval may name. */
export const PERSON_ROLES: readonly Role[] = Object.freeze(ROLES.filter((r) => r !== 'agent' && r !== 'enforcer'));
