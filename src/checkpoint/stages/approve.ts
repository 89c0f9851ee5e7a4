import { isWardenError, type Action, type ApprovalRef, type ApprovalRequest, type ApprovalSubject, type Decision } from '../../domain/index.js';
import { approvalPolicyFor } from '../../policy/index.js';
import { reached, type Pass, type PassStage } from '../pass.js';

/** What approvers are shown and the digest binds: the call as it will be forwarded, with who asks, where, and under which release. */
export function subjectOf(forwarded: Action, tenantId: string, policySetVersion: string, sessionId: string | undefined): ApprovalSubject {
  return {
    tenantId,
    kind: forwarded.kind,
    scope: forwarded.scope,
    ...(forwarded.tool ? { tool: { server: forwarded.tool.server, name: forwarded.tool.name } } : {}),
    ...(forwarded.resource ? { resource: { ...forwarded.resource } } : {}),
    ...(forwarded.args !== undefined ? { args: forwarded.args } : {}),
    ...(forwarded.principal ? { principal: forwarded.principal.id } : {}),
    ...(forwarded.agent ? { agent: forwarded.agent.id } : {}),
    ...(sessionId !== undefined ? { session: sessionId } : {}),
    policySetVersion,
  };
}

/** The reference a decision carries to its request. */
export function approvalRef(r: ApprovalRequest): ApprovalRef {
  const roles = [...new Set(r.policy.approvers.flatMap((g) => g.roles ?? []))];
  const principals = [...new Set(r.policy.approvers.flatMap((g) => g.principals ?? []))];
  return {
    id: r.id,
    status: r.status,
    digest: r.digest,
    url: `/api/v1/approvals/${r.id}`,
    expiresAt: r.expiresAt,
    approvers: { ...(roles.length > 0 ? { roles } : {}), ...(principals.length > 0 ? { principals } : {}) },
    count: r.policy.count,
    approvals: r.votes.filter((v) => v.vote === 'approve').length,
    ...(r.policy.confirm && r.confirmedAt === undefined ? { confirm: true } : {}),
  };
}

/**
 * approve: a `require_approval` decision becomes a request bound to the digest of the forwarded
 * action (tool, final arguments, principal, agent, scope, session, policy release). An approval of
 * that exact digest releases it (effect `allow`, the approval named); an approver's denial of it
 * denies; otherwise it stays `require_approval` with the request to wait on. Any failure of the
 * approvals store denies (fail closed). Without the port (offline) the decision is returned as is.
 */
export const approve: PassStage<'approve'> = {
  name: 'approve',
  async run(pass, deps): Promise<Pass> {
    const decision = reached(pass.decision, 'decision');
    if (decision.effect !== 'require_approval' || !deps.approvals) return pass;
    const set = reached(pass.set, 'set');
    const forwarded = reached(pass.forwarded, 'forwarded');
    const tenantId = pass.caller?.tenantId ?? 'default';
    const subject = subjectOf(forwarded, tenantId, decision.policySetVersion ?? set.version, pass.caller?.sessionId);
    let next: Decision;
    try {
      const policy = approvalPolicyFor(set, forwarded.scope, decision.approval ?? []);
      const { outcome, request } = await deps.approvals.resolve({ tenantId, subject, policy, agentOwner: pass.action.agent?.owner });
      const approvalRequest = approvalRef(request);
      if (outcome === 'released') next = { ...decision, effect: 'allow', approvalRequest };
      else if (outcome === 'denied') {
        const by = request.votes.find((v) => v.vote === 'deny');
        const why = `approval request \`${request.id}\` for this exact call was denied${by ? ` by \`${by.principal}\`${by.comment ? `: ${by.comment}` : ''}` : ''}`;
        next = { ...decision, effect: 'deny', reasons: [...decision.reasons, { policy: 'approvals', version: 0, rule: 'denied-by-approver', effect: 'deny', message: why }], approvalRequest };
      } else next = { ...decision, approvalRequest };
    } catch (err) {
      // A limit of the approvals service says what it is; any other failure stays out of what the agent reads.
      const limit = isWardenError(err) && (err.code === 'approval.too_large' || err.code === 'approval.too_many_pending');
      const why = limit ? `${err.message}, so the call is denied` : 'approval requests could not be opened or read, so the call is denied';
      next = { ...decision, effect: 'deny', reasons: [...decision.reasons, { policy: 'approvals', version: 0, rule: limit ? err.code.replace('approval.', '').replaceAll('_', '-') : 'approvals-unavailable', effect: 'deny', message: why }] };
    }
    return { ...pass, decision: next };
  },
};
