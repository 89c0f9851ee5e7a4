import type { Decision } from '../../domain/index.js';
import { decide } from '../../policy/index.js';
import { reached, type Pass, type PassStage } from '../pass.js';

/**
 * evaluate: reads the clock once and decides, a registry refusal first, otherwise
 * `decide(set, action, { now, findings })` over the action as the policies must see it (arguments
 * unmasked); then adds the `redact` obligation detect prepared. It may not do I/O, and never throws
 * on a policy's failure (the decision reports it).
 */
export const evaluate: PassStage<'evaluate'> = {
  name: 'evaluate',
  run(pass, deps): Pass {
    const findings = [...reached(pass.findings, 'findings')];
    const time = deps.clock.now();
    let decision: Decision = pass.refusal
      ? { effect: 'deny', reasons: [pass.refusal], warnings: [], findings, obligations: [] }
      : decide(reached(pass.set, 'set'), pass.action, { now: time, findings });
    const { obligation } = reached(pass.redaction, 'redaction');
    if (obligation) decision = { ...decision, obligations: [...decision.obligations, obligation] };
    return { ...pass, time, decision };
  },
};
