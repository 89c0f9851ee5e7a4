import type { Decision } from '../domain/decision.js';

/**
 * Why the SDK denied a call itself, without a decision from Warden's policies: the codes an
 * SDK-made decision names as its reason's `rule` (they are in docs/errors.md with the server's).
 */
export type SdkErrorCode =
  | 'sdk.unreachable'
  | 'sdk.unauthorized'
  | 'sdk.refused'
  | 'sdk.bad_response'
  | 'sdk.approval_denied'
  | 'sdk.approval_expired'
  | 'sdk.approval_timeout';

/** What a refused call tells the agent: the decision, its reasons, and the code when the SDK decided. */
export class WardenDeniedError extends Error {
  override readonly name = 'WardenDeniedError';
  /** The decision that refused the call (a deny, or a require_approval that was not approved). */
  readonly decision: Decision;
  /** `policy` when a rule decided; an SDK code when the SDK did (Warden unreachable, an approval denied …). */
  readonly code: SdkErrorCode | 'policy';

  constructor(decision: Decision, code: SdkErrorCode | 'policy') {
    super(refusalMessage(decision));
    this.decision = decision;
    this.code = code;
  }
}

/**
 * One sentence an agent (and its model) can act on: what decided and why, for example
 * `Warden denied this call: Shell tools are limited to business hours. (restrict-shell/no-shell-at-night)`.
 */
export function refusalMessage(decision: Decision): string {
  const why = decision.reasons.map((r) => `${r.message ?? `rule ${r.rule}`} (${r.policy}/${r.rule})`).join('; ');
  const head = decision.effect === 'require_approval' ? 'Warden holds this call for approval' : 'Warden denied this call';
  return `${head}: ${why || 'no reason given'}`;
}
