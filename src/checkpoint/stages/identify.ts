import type { Action } from '../../domain/index.js';
import type { PassStage } from '../pass.js';

/**
 * The action with the facts a caller may not assert taken out of its hands: an untrusted caller's
 * `context.time` becomes `context.claimedTime` (kept for the audit and visible to policies), so the
 * evaluate stage judges the action at Warden's clock. Everything else the caller put in `context`
 * stays, and the decision lists it as asserted.
 */
export function withoutClaims(action: Action, trustedTime: boolean): Action {
  const ctx = action.context;
  if (trustedTime || ctx?.time === undefined) return action;
  const { time, ...rest } = ctx;
  return { ...action, context: { ...rest, claimedTime: time } };
}

/**
 * identify: the enforcement point has already validated the action against the schemas and
 * attributed it (agent, principal, scope) before calling the checkpoint; this stage separates what
 * the caller may assert from what Warden decides: a caller not trusted to assert the time (every
 * caller of the API and the gateway until identities say otherwise; `CallerInfo.trustedTime`) has
 * its `context.time` kept as `context.claimedTime`. It may not look anything up or change the
 * attribution: that belongs to the edge.
 */
export const identify: PassStage<'identify'> = {
  name: 'identify',
  run: (pass) => {
    const action = withoutClaims(pass.action, pass.caller?.trustedTime === true);
    return action === pass.action ? pass : { ...pass, action };
  },
};
