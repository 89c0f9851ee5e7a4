import { reached, type Pass, type PassStage } from '../pass.js';

/**
 * screen: asks the abuse platform about the action before it is decided: the live labels of its
 * agent, principal and session (what `agent.labels` and the others hold for the policies), a deny or
 * throttle in force against one of them, and the synchronous abuse rules, whose verdicts may refuse
 * it. A refusal here decides as the registry's does, before any policy. An action the registry
 * refused is not screened. It may not decide anything else; offline it does nothing.
 */
export const screen: PassStage<'screen'> = {
  name: 'screen',
  async run(pass, deps): Promise<Pass> {
    if (!deps.abuse || pass.refusal) return pass;
    const findings = reached(pass.findings, 'findings');
    const r = await deps.abuse.screen({ tenantId: pass.caller?.tenantId ?? 'default', action: pass.action, sessionId: pass.caller?.sessionId, ip: pass.caller?.ip, findings });
    return { ...pass, labels: r.labels, ...(r.refusal ? { refusal: r.refusal } : {}) };
  },
};
