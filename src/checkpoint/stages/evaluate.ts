import type { Decision } from '../../domain/index.js';
import { checksFor, decide, withSessionWitnesses, decisionTime, explainContext } from '../../policy/index.js';
import { reached, type Pass, type PassStage } from '../pass.js';

/**
 * evaluate: reads the clock once and decides, a registry refusal first, otherwise
 * `decide(set, action, { now, findings })` over the action as the policies must see it (arguments
 * unmasked); then adds the `redact` obligation detect prepared, and the decision's `context`
 * (the time the policies saw, the caller's claimed time, which context fields Warden set and which
 * the caller asserted), and the status checks the decision must run (`checksFor`, for the checks
 * stage). A `cache` mark the policies gave survives only a decision nothing else shapes: no
 * redaction, no status check, no session history read. It may not do I/O, and never throws on a policy's failure (the decision
 * reports it).
 */
export const evaluate: PassStage<'evaluate'> = {
  name: 'evaluate',
  run(pass, deps): Pass {
    const findings = [...reached(pass.findings, 'findings')];
    // INVARIANT: the audit event's time is the clock's, even when a trusted caller's time decides.
    const time = deps.clock.now();
    const decidedAt = decisionTime(pass.action, time);
    const set = reached(pass.set, 'set');
    let decision: Decision = pass.refusal
      ? { effect: 'deny', reasons: [pass.refusal], warnings: [], findings, obligations: [] }
      : decide(set, pass.action, { now: decidedAt, findings, session: pass.session, labels: pass.labels });
    if (pass.session && !pass.refusal) decision = withSessionWitnesses(set, pass.action, decision, { now: decidedAt, findings, session: pass.session, labels: pass.labels });
    const checkRequirements = checksFor(set, pass.action, decision, { now: decidedAt, findings, session: pass.session, labels: pass.labels });
    const { obligation } = reached(pass.redaction, 'redaction');
    if (obligation) decision = { ...decision, obligations: [...decision.obligations, obligation] };
    if (decision.cache && (obligation || checkRequirements.length > 0 || set.readsSession)) {
      const { cache: _dropped, ...rest } = decision;
      decision = rest;
    }
    decision = { ...decision, context: explainContext(pass.action, decidedAt) };
    return { ...pass, time, decision, checkRequirements };
  },
};
