import type { Decision, ErrorCode } from '../domain/index.js';

/** Why the gateway did not forward a request, or did not hand its result back, as machine-readable `_meta`. */
export type RefusalKind =
  | 'policy'
  | 'approval_pending'
  | 'approval_denied'
  | 'invalid_arguments'
  | 'rate_limited'
  | 'rate_limiter_unavailable'
  | 'upstream_error'
  | 'output_blocked'
  | 'audit_failed'
  | 'unknown_tool'
  | 'unknown_resource'
  | 'unknown_prompt';

/**
 * A governed request the gateway refused or could not complete. Past the decision it carries the
 * decision, and `auditEventId` points to the decision's audit event whenever one was written.
 */
export interface Refusal {
  ok: false;
  kind: RefusalKind;
  /** One sentence for the agent: what was refused and why. */
  message: string;
  /** The checkpoint's decision, for every refusal after it (absent for unknown names, and for `audit_failed`: no record of it exists). */
  decision?: Decision | undefined;
  /** The decision's audit event. */
  auditEventId?: string | undefined;
  /** The JSON-RPC code the upstream answered with (`upstream_error` only). */
  upstreamCode?: number | undefined;
  /** The catalogue code of a refusal Warden's own failure caused (`gateway.rate_limiter_unavailable`, `audit.write_failed`). */
  code?: ErrorCode | undefined;
}

/**
 * What one governed request (tool call, resource read, prompt get) comes to. Only the edge maps it
 * onto the wire: an `isError` tool result for `tools/call`, a JSON-RPC error for the others.
 */
export type Outcome<R> = { ok: true; result: R } | Refusal;

/** A refusal; after a decision, with the decision and its audit event id. */
export function refusal(kind: RefusalKind, message: string, decision?: Decision, upstreamCode?: number): Refusal {
  return {
    ok: false,
    kind,
    message,
    ...(decision ? { decision } : {}),
    ...(decision?.auditEventId ? { auditEventId: decision.auditEventId } : {}),
    ...(upstreamCode !== undefined ? { upstreamCode } : {}),
  };
}
