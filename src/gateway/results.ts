import type { Decision, Reason } from '../domain/index.js';
import type { ToolResult } from './ports.js';

/** The `_meta` key under which the gateway tells an agent why it refused. */
export const DECISION_META_KEY = 'warden.dev/decision';

/** Why the gateway did not forward a call, as machine-readable `_meta`. */
export type RefusalKind = 'policy' | 'invalid_arguments' | 'rate_limited' | 'upstream_error' | 'output_blocked' | 'unknown_tool';

function describeReason(r: Reason): string {
  return `${r.message ?? `${r.effect} by rule`} (policy \`${r.policy}\`, rule \`${r.rule}\`)`;
}

/** A tool result with `isError` and one text block; never a transport error, so agents can read it. */
export function errorResult(kind: RefusalKind, text: string, meta: Record<string, unknown> = {}): ToolResult {
  return { content: [{ type: 'text', text }], isError: true, _meta: { [DECISION_META_KEY]: { refusal: kind, ...meta } } };
}

/** The result an agent gets for a denied (or approval-pending) call: the policy's message and rule. */
export function deniedResult(decision: Decision): ToolResult {
  const deciding = decision.reasons.filter((r) => r.effect === decision.effect);
  const why = deciding.length > 0 ? deciding.map(describeReason).join('; ') : 'no policy allows it (the scope default is deny)';
  const head = decision.effect === 'require_approval' ? 'Warden holds this call for approval, which this gateway cannot collect yet' : 'Warden denied this call';
  return errorResult('policy', `${head}: ${why}.`, {
    effect: decision.effect,
    reasons: deciding.map((r) => ({ policy: r.policy, rule: r.rule, ...(r.message ? { message: r.message } : {}) })),
    ...(decision.auditEventId ? { auditEventId: decision.auditEventId } : {}),
  });
}
