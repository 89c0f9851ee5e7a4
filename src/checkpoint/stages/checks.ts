import { digestJson, wellFormedValue, type Action, type CheckOutcome, type CheckRequirement } from '../../domain/index.js';
import { failedOutcome, foldChecks } from '../fold-checks.js';
import { reached, type Pass, type PassStage } from '../pass.js';
import type { CheckPort, CheckRequest, CheckSubject } from '../ports.js';

/** What a status check is shown of the action to forward (see `CheckSubject`). */
export function checkSubject(action: Action): CheckSubject {
  return {
    kind: action.kind,
    scope: action.scope,
    ...(action.tool ? { tool: { server: action.tool.server, name: action.tool.name } } : {}),
    ...(action.resource ? { resource: { uri: action.resource.uri, ...(action.resource.server !== undefined ? { server: action.resource.server } : {}) } } : {}),
    ...(action.args !== undefined ? { args: action.args } : {}),
    ...(action.principal ? { principal: action.principal.id } : {}),
    ...(action.agent ? { agent: action.agent.id } : {}),
  };
}

/** The digest a check request carries: `digestJson({ tenant, action })` over the subject. */
export function checkDigest(tenantId: string, subject: CheckSubject): string {
  try {
    return digestJson({ tenant: tenantId, action: subject });
  } catch {
    // Arguments canonical JSON refuses (an unpaired surrogate) are digested as repaired, as result digests are.
    return digestJson({ tenant: tenantId, action: wellFormedValue(subject) });
  }
}

/** Runs the checks through the port; whatever the port does, every requirement gets one outcome. */
async function ask(port: CheckPort | undefined, requirements: readonly CheckRequirement[], request: CheckRequest): Promise<CheckOutcome[]> {
  if (!port) return requirements.map((r) => failedOutcome(r, 'status checks do not run offline'));
  let outcomes: CheckOutcome[];
  try {
    outcomes = await port.run(requirements, request);
  } catch (err) {
    const why = `the check client failed: ${err instanceof Error ? err.message : String(err)}`;
    return requirements.map((r) => failedOutcome(r, why));
  }
  return requirements.map((r, i) => outcomes[i] ?? failedOutcome(r, 'the check client gave no answer'));
}

/**
 * checks: runs the external status checks evaluate named (in parallel, through `CheckPort`) over the
 * action to forward, and folds their answers into the decision by deny > require_approval > allow
 * (`foldChecks`); a check that fails follows its `onError`, and offline (no port) every check does.
 * It may not loosen the decision: an answer only keeps or tightens the effect.
 */
export const checks: PassStage<'checks'> = {
  name: 'checks',
  async run(pass, deps): Promise<Pass> {
    const requirements = pass.checkRequirements ?? [];
    if (requirements.length === 0) return pass;
    const decision = reached(pass.decision, 'decision');
    const tenantId = pass.caller?.tenantId ?? 'default';
    const action = checkSubject(reached(pass.forwarded, 'forwarded'));
    const outcomes = await ask(deps.checks, requirements, { tenantId, action, digest: checkDigest(tenantId, action) });
    return { ...pass, decision: foldChecks(decision, requirements, outcomes), checkRequirements: [] };
  },
};
