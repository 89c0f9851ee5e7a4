import { PERSON_ROLES, type ApprovalRequest, type ErrorCode, type Role } from '../domain/index.js';
import { holdsAt, personOf, type Credential } from '../identity/index.js';

/** Why a credential may not answer a request: a stable code and a sentence the person can act on. */
export interface Refusal {
  code: Extract<ErrorCode, `approval.${string}`>;
  message: string;
}

/**
 * Whether `c` may approve or deny `r` at `now`; undefined when it may. Pure: the service calls it
 * once to answer early and again inside the transaction that holds the request, on the row as
 * locked. The requesting principal, the agent (its own credential or its id as a person), the agent's
 * owner (unless the scope allows it) and machine credentials never answer; an approver must satisfy
 * every rule's approvers at the request's scope, now, and have signed in recently enough when the
 * rule asks for it; one answer per person.
 */
export function refusalOf(r: ApprovalRequest, c: Credential, now: Date): Refusal | undefined {
  const me = personOf(c);
  const s = r.subject;
  if (r.status !== 'pending') return { code: 'approval.closed', message: `approval request \`${r.id}\` is ${r.status}; it takes no more answers` };
  if (now.getTime() >= Date.parse(r.expiresAt)) return { code: 'approval.expired', message: `approval request \`${r.id}\` expired at ${r.expiresAt}; the call was denied` };
  if (c.agentId !== undefined || (s.agent !== undefined && me === s.agent)) return { code: 'approval.self', message: 'an agent may not answer approval requests, its own least of all' };
  if (!c.grants.some((g) => (PERSON_ROLES as readonly Role[]).includes(g.role))) return { code: 'approval.not_approver', message: 'only a person answers approval requests; this credential holds machine roles only' };
  if (s.principal !== undefined && me === s.principal) return { code: 'approval.self', message: `\`${me}\` asked for this call (the agent acts on their behalf) and may not approve it` };
  if (!r.policy.agentOwnerMayApprove && r.agentOwner !== undefined && me === r.agentOwner) {
    return { code: 'approval.agent_owner', message: `\`${me}\` owns the requesting agent \`${s.agent ?? ''}\`, and this scope does not let an agent's owner approve its requests` };
  }
  if (r.policy.approvers.length === 0) return { code: 'approval.not_approver', message: `approval request \`${r.id}\` asks only the principal \`${s.principal ?? ''}\` to confirm the call; no approver answers it` };
  // A named approver is a person of this scope: the name alone (a token's `principal`, an OIDC
  // subject) is not enough, or an admin elsewhere could mint a token under that name.
  const here = holdsAt(c.grants, PERSON_ROLES, s.scope);
  for (const group of r.policy.approvers) {
    const roles = (group.roles ?? []).filter((x): x is Role => (PERSON_ROLES as readonly string[]).includes(x));
    if (holdsAt(c.grants, roles, s.scope) || (here && (group.principals ?? []).includes(me))) continue;
    const who = [...(group.roles ?? []).map((x) => `role \`${x}\` at \`${s.scope}\``), ...(group.principals ?? []).map((p) => `\`${p}\` (with a role at \`${s.scope}\`)`)].join(' or ');
    return { code: 'approval.not_approver', message: `answering approval request \`${r.id}\` needs ${who}; this credential holds ${c.grants.map((g) => `\`${g.role}\` at ${g.scope ?? 'the whole tenant'}`).join(', ') || 'no role'}` };
  }
  const mins = r.policy.reauthMinutes;
  if (mins !== undefined) {
    const at = c.method === 'oidc' && c.authenticatedAt !== undefined ? Date.parse(c.authenticatedAt) : Number.NaN;
    if (!(now.getTime() - at <= mins * 60_000)) {
      return { code: 'approval.reauth_required', message: `approval request \`${r.id}\` needs an OIDC sign-in at most ${mins} minutes old${c.method === 'oidc' ? '' : ' (this credential is not an OIDC sign-in)'}; sign in again and retry` };
    }
  }
  if (r.votes.some((v) => v.principal === me)) return { code: 'approval.already_voted', message: `\`${me}\` already answered approval request \`${r.id}\`; a second answer by the same person does not count` };
  return undefined;
}
