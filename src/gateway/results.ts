import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Decision, Reason } from '../domain/index.js';
import type { Outcome, Refusal, RefusalKind } from './outcome.js';
import type { ToolResult } from './ports.js';

/** The `_meta` key under which the gateway tells an agent why it refused. */
export const DECISION_META_KEY = 'warden.dev/decision';

function describeReason(r: Reason): string {
  const after = r.steps?.length ? `, after ${r.steps.map((s) => `\`${s.tool}\` (event ${s.eventId})`).join(', ')} earlier in this session` : '';
  return `${r.message ?? `${r.effect} by rule`} (policy \`${r.policy}\`, rule \`${r.rule}\`${after})`;
}

/** A tool result with `isError` and one text block; never a transport error, so agents can read it. */
export function errorResult(kind: RefusalKind, text: string, meta: Record<string, unknown> = {}): ToolResult {
  return { content: [{ type: 'text', text }], isError: true, _meta: { [DECISION_META_KEY]: { refusal: kind, ...meta } } };
}

/** What an agent reads when policy refused its `what` (`call`, `read`, `prompt`): the policy's messages and the deciding rules. */
export function policyMessage(decision: Decision, what: string): string {
  const deciding = decision.reasons.filter((r) => r.effect === decision.effect);
  const why = deciding.length > 0 ? deciding.map(describeReason).join('; ') : 'no policy allows it (the scope default is deny)';
  if (decision.effect === 'require_approval') return decision.approvalRequest ? pendingMessage(decision, what) : `Warden holds this ${what} for approval, which cannot be collected here: ${why}.`;
  return `Warden denied this ${what}: ${why}.`;
}

/** How long the gateway holds a request waiting for its approval before answering the agent. */
export const DEFAULT_APPROVAL_WAIT_MS = 60_000;

/**
 * What an agent reads while its request waits for approval: the request, who must answer, when it
 * expires, and that the same request retried after approval passes (a changed one asks again).
 */
export function pendingMessage(decision: Decision, what: string): string {
  const ref = decision.approvalRequest!;
  const who = [...(ref.approvers.roles ?? []).map((r) => `role \`${r}\``), ...(ref.approvers.principals ?? []).map((p) => `\`${p}\``)].join(' or ');
  const rules = decision.reasons.filter((r) => r.effect === 'require_approval').map(describeReason).join('; ');
  const confirm = 'the confirmation of the person the agent acts for (asked through MCP elicitation, which needs a client that supports it)';
  const needs = ref.count === 0 ? confirm : `${ref.count} approval${ref.count === 1 ? '' : 's'} (${ref.approvals} given) from ${who}${ref.confirm ? ` and ${confirm}` : ''}`;
  return (
    `Warden holds this ${what} for approval: request \`${ref.id}\` needs ${needs}, ` +
    `and expires at ${ref.expiresAt}${rules ? `; asked by ${rules}` : ''}. Once it is approved, send the same ${what} again with the same arguments and it will pass; ` +
    `any change to the arguments asks for a new approval.`
  );
}

/** The text and `_meta` of a refusal by policy: the policy's message and the deciding rules. */
function refusalOf(decision: Decision, what: string): { text: string; meta: Record<string, unknown> } {
  const deciding = decision.reasons.filter((r) => r.effect === decision.effect);
  return {
    text: policyMessage(decision, what),
    meta: {
      refusal: 'policy',
      ...(decision.approvalRequest ? { approval: decision.approvalRequest } : {}),
      effect: decision.effect,
      reasons: deciding.map((r) => ({ policy: r.policy, rule: r.rule, ...(r.message ? { message: r.message } : {}) })),
      ...(decision.auditEventId ? { auditEventId: decision.auditEventId } : {}),
    },
  };
}

/** The result an agent gets for a denied (or approval-pending) call: the policy's message and rule. */
export function deniedResult(decision: Decision): ToolResult {
  const { text, meta } = refusalOf(decision, 'call');
  return errorResult('policy', text, meta);
}

/**
 * JSON-RPC error code of a request Warden refused by policy (`resources/read`, `prompts/get`, which
 * have no `isError` result). In the implementation-defined server range; the SDK uses -32000/-32001.
 */
export const POLICY_DENIED = -32003;
/** JSON-RPC error code of a read or prompt get over a rate limit (a tool call gets an `isError` result instead). */
export const RATE_LIMITED = -32004;
/** JSON-RPC error code of a resource no upstream serves, as the MCP spec defines it. */
export const RESOURCE_NOT_FOUND = -32002;

/**
 * A JSON-RPC error as the SDK's `Server` sends it: `code`, the bare `message`, and `data` carrying
 * `{ "warden.dev/decision": { refusal, … } }`. (Not `McpError`, whose message repeats the code.)
 */
export class GatewayError extends Error {
  readonly code: number;
  readonly data: Record<string, unknown>;
  constructor(code: number, kind: RefusalKind, message: string, meta: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.data = { [DECISION_META_KEY]: { refusal: kind, ...meta } };
  }
}

/** The error an agent gets for a denied (or approval-pending) read or prompt: the policy's message and rule. */
export function deniedError(decision: Decision, what: string): GatewayError {
  const { text, meta } = refusalOf(decision, what);
  const { refusal: _policy, ...rest } = meta;
  return new GatewayError(POLICY_DENIED, 'policy', text, rest);
}

/** The `_meta` of a refusal besides its kind: the decision's audit event, when one was written. */
function metaOf(r: Refusal): Record<string, unknown> {
  return { ...(r.code ? { code: r.code } : {}), ...(r.auditEventId ? { auditEventId: r.auditEventId } : {}), ...(r.decision?.approvalRequest ? { approval: r.decision.approvalRequest } : {}) };
}

/** The `tools/call` edge: a result as the upstream gave it, or a refusal as an `isError` tool result. */
export function toolResultOf(outcome: Outcome<ToolResult>): ToolResult {
  if (outcome.ok) return outcome.result;
  if (outcome.kind === 'policy' && outcome.decision) return deniedResult(outcome.decision);
  return errorResult(outcome.kind, outcome.message, metaOf(outcome));
}

/** JSON-RPC code of each refusal that is not a policy decision (those are `POLICY_DENIED`). */
const RPC_CODES: Record<Exclude<RefusalKind, 'policy'>, number> = {
  rate_limited: RATE_LIMITED,
  // The client's right move is the same: back off and retry; `refusal` and `code` tell the two apart.
  rate_limiter_unavailable: RATE_LIMITED,
  output_blocked: POLICY_DENIED,
  // Held for approval past the wait budget: `data` names the request; the same request retried after approval passes.
  approval_pending: POLICY_DENIED,
  approval_denied: POLICY_DENIED,
  upstream_error: ErrorCode.InternalError,
  // Warden's own failure: the decision could not be recorded (`code` says which: write failed, backpressure).
  audit_failed: ErrorCode.InternalError,
  unknown_resource: RESOURCE_NOT_FOUND,
  unknown_prompt: ErrorCode.InvalidParams,
  unknown_tool: ErrorCode.InvalidParams,
  invalid_arguments: ErrorCode.InvalidParams,
};

/**
 * The `resources/read` and `prompts/get` edge: a refusal as the JSON-RPC error the session sends.
 * `what` names the request in a policy refusal (`Warden denied this read`).
 */
export function rpcErrorOf(r: Refusal, what: 'call' | 'read' | 'prompt'): GatewayError {
  if (r.kind === 'policy') return r.decision ? deniedError(r.decision, what) : new GatewayError(POLICY_DENIED, 'policy', r.message, metaOf(r));
  const code = r.kind === 'upstream_error' && r.upstreamCode !== undefined ? r.upstreamCode : RPC_CODES[r.kind];
  return new GatewayError(code, r.kind, r.message, metaOf(r));
}
