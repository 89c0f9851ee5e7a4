import type { CallerInfo } from '../checkpoint/audit-events.js';
import type { RegistryPort } from '../checkpoint/ports.js';
import type { Action, AgentKill, Principal } from '../domain/index.js';

export type { AgentKill } from '../domain/index.js';

/** The request kinds the gateway governs one by one: a tool call, a resource read, a prompt get. */
export type GovernedKind = Extract<Action['kind'], 'tool.call' | 'resource.read' | 'prompt.get'>;

/** Who is on the other end of one agent session, fixed when the session opens. */
export interface SessionIdentity {
  agentId: string;
  /** The scope every action of the session is filed under. */
  scope: string;
  principal?: Principal | undefined;
  /** How the identity was established (`config`, `token`, `header`), for the audit trail. */
  via: string;
  /** The tenant every action of the session belongs to (its events go to that tenant's chain). @default 'default' */
  tenantId?: string | undefined;
  /**
   * The store token that opened the session, when one did: decision events name it as
   * `details.submittedBy`, and the session ends once it is revoked or expires.
   */
  token?: { id: string; name: string } | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** This agent session (set by the gateway at connect): approvals with `reuse: session` key on it. */
  sessionId?: string | undefined;
}

/**
 * Approval requests as the gateway waits on them (src/approvals' service fits): resolves when the
 * request leaves `pending`, or once `budgetMs` passed with it still pending.
 */
export interface ApprovalWaiter {
  wait(
    tenantId: string,
    id: string,
    opts: { budgetMs: number; signal?: AbortSignal | undefined; onTick?: ((waitedMs: number) => void) | undefined },
  ): Promise<{ id: string; status: 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled'; expiresAt: string; votes: ReadonlyArray<{ vote: 'approve' | 'deny'; principal: string; comment?: string | undefined }> }>;
  /** Records the requesting principal's own answer to a confirmation prompt. */
  confirm(tenantId: string, id: string, principal: string, accepted: boolean): Promise<{ status: 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' }>;
}

/** A tool as an upstream server lists it, in the registry's terms. */
export interface ListedTool {
  name: string;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  annotations?: Record<string, unknown> | undefined;
}

/**
 * The registry as the gateway uses it: the checkpoint's lookups plus discovery on connect.
 * `createRegistry` of src/registry implements it.
 */
export interface GatewayRegistry extends RegistryPort {
  discover(
    server: { name: string; scope: string; info?: Record<string, unknown> },
    tools: readonly ListedTool[],
  ): Promise<{ added: string[]; changed: string[]; status: Record<string, 'pending' | 'approved' | 'blocked'> }>;
}

/** What a result inspector may do with a result before the agent sees it; a replacement keeps the shape it was given. */
export type InspectionOutcome = { action: 'pass' } | { action: 'replace'; result: InspectedResult } | { action: 'block'; message: string };

/**
 * Inspects (and may redact or block) what comes back from an upstream; the detection issue plugs
 * detectors in here. `action.kind` says which result it is: `tool.call` → `ToolResult`,
 * `resource.read` → `ResourceResult`, `prompt.get` → `PromptResult`.
 */
export interface ResultInspector {
  /** `caller`: the session's tenant, connection and session id (the scan section is the tenant's; findings join the session's history). */
  inspect(action: Action, result: InspectedResult, caller?: CallerInfo): Promise<InspectionOutcome>;
}

/** Any result the gateway hands to the inspector. */
export type InspectedResult = ToolResult | ResourceResult | PromptResult;

/** An MCP `CallToolResult`, kept loose so upstream extensions pass through untouched. */
export interface ToolResult {
  content: Array<Record<string, unknown>>;
  isError?: boolean | undefined;
  structuredContent?: Record<string, unknown> | undefined;
  _meta?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** An MCP `ReadResourceResult`: text (`text`) or binary (`blob`, base64) contents, each with its `uri`. */
export interface ResourceResult {
  contents: Array<{ uri: string; [key: string]: unknown }>;
  _meta?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** An MCP `GetPromptResult`. */
export interface PromptResult {
  description?: string | undefined;
  messages: Array<{ role: string; content: Record<string, unknown>; [key: string]: unknown }>;
  _meta?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** A counter store for rate limits: one process (memory) or shared by replicas (Redis). */
export interface RateLimiter {
  /** Counts one hit on `key` in the current window; `ok` is false once `limit` is exceeded. */
  hit(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; count: number; resetMs: number }>;
  close?(): Promise<void>;
}

/** Minimal logger (pino fits). */
/**
 * Spans of forwarded requests (src/telemetry builds one); without it nothing is traced upstream and
 * the agent's own `traceparent` is passed on as it came.
 */
export interface UpstreamTracing {
  /** A request is forwarded, in the trace `traceparent` names (the agent's). */
  begin(req: { server: string; kind: GovernedKind; name: string; traceparent: string | undefined }): UpstreamSpan;
}

/** One forwarded request's span. */
export interface UpstreamSpan {
  /** What goes upstream in `_meta.traceparent`: this span, so the upstream's own spans are its children. */
  readonly traceparent: string | undefined;
  end(outcome: 'ok' | 'tool_error' | 'error', error?: unknown): void;
}

export interface GatewayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Kills for the HTTP listener (the core's abuse engine fits): those made in this process arrive at
 * once through `subscribe`; those of other processes are polled with `since`.
 */
export interface KillFeed {
  since(at: Date): Promise<AgentKill[]>;
  subscribe(listener: (kill: AgentKill) => void): () => void;
}
