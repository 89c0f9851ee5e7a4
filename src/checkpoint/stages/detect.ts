import { redactValue } from '../../detect/index.js';
import type { Action } from '../../domain/index.js';
import { mandatedFindings, resolveScan } from '../../policy/index.js';
import { capFindings, redactionOf, scrubEvidence, sensitiveOf } from '../evidence.js';
import type { Pass, PassStage } from '../pass.js';
import { policySetFor } from '../ports.js';

/**
 * detect: reads the policy set in force, runs the detectors the scope's scan section mandates (or
 * that argument capture needs), keeps the mandated findings at their thresholds with their evidence
 * scrubbed, and masks the categories the section redacts in the arguments to forward. It may not
 * decide: findings only become a decision through a policy in evaluate.
 */
export const detect: PassStage<'detect'> = {
  name: 'detect',
  async run(pass, deps): Promise<Pass> {
    const { action } = pass;
    // The registry stage read the set for the pass; run alone, this stage reads it itself.
    const set = pass.set ?? policySetFor(deps.policies, pass.caller?.tenantId);
    const mandate = resolveScan(set.scans, action.scope);
    // One scan serves the scope's mandate and, when arguments are captured, their masking.
    const captureArgs = deps.capture?.args === true && action.args !== undefined;
    const scanned = deps.detectors && (mandate?.input || captureArgs) ? await deps.detectors.scan(action) : [];
    const found = mandate?.input ? mandatedFindings(mandate, scanned) : [];
    // Redact before anything leaves: the forwarded arguments and the audit digest both see the masked form.
    // Every span found is masked; policies, the decision and the audit event see a bounded list.
    const redaction = redactionOf(mandate, found);
    const findings = scrubEvidence(capFindings(found, 'args'), action.args, 'args', sensitiveOf(found));
    const forwarded: Action = redaction.obligation ? { ...action, args: redactValue(action.args, [...redaction.hits], 'args') as Action['args'] } : action;
    return { ...pass, set, mandate, scanned, findings, redaction, forwarded };
  },
};
