import { digestJson, newAuditEvent, type Action, type AuditEvent, type AuditOutcome, type Decision, type Effect, type Finding } from '../domain/index.js';

/** Who called, as the enforcement point saw it. */
export interface CallerInfo {
  ip?: string;
  userAgent?: string;
  /** W3C traceparent of the request, so the event joins the caller's trace. */
  traceparent?: string;
  /**
   * The caller may assert `context.time` (its time decides instead of Warden's clock). Set only for
   * callers an identity marks as trusted; the API and the gateway never set it.
   * @default false
   */
  trustedTime?: boolean;
  /** The tenant the action belongs to: its events go to that tenant's chain. @default 'default' */
  tenantId?: string;
  /** The credential that submitted the action (an enforcer, an agent token), named in the decision event. */
  via?: { id: string; name: string; method: string };
  /** The agent session the action belongs to (the gateway's MCP session, or one an enforcer names); approvals with `reuse: session` and session history key on it. */
  sessionId?: string;
}

const OUTCOME: Record<Effect, AuditOutcome> = { allow: 'success', deny: 'denied', require_approval: 'pending' };
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The `<kind>.decided` event for one decision: arguments as a digest, and as a masked copy only when captured. */
export function buildDecisionEvent(action: Action, decision: Decision, opts: { time: Date; caller?: CallerInfo; latencyMs?: number; capturedArgs?: unknown }): AuditEvent {
  const caller = opts.caller;
  const trace = caller?.traceparent ? TRACEPARENT.exec(caller.traceparent) : null;
  const tool = action.tool;
  return newAuditEvent(
    {
      ...(caller?.tenantId !== undefined ? { tenantId: caller.tenantId } : {}),
      scope: action.scope,
      category: 'decision',
      type: `${action.kind}.decided`,
      severity: decision.effect === 'deny' ? 'medium' : 'info',
      outcome: OUTCOME[decision.effect],
      actor: {
        type: action.agent ? 'agent' : action.principal ? (action.principal.type === 'service' ? 'service' : 'user') : 'system',
        id: action.agent?.id ?? action.principal?.id ?? 'anonymous',
        ...(caller?.ip ? { ip: caller.ip } : {}),
        ...(caller?.userAgent ? { userAgent: caller.userAgent } : {}),
        ...(caller?.via ? { authMethod: caller.via.method } : {}),
        ...(caller?.sessionId !== undefined ? { sessionId: caller.sessionId } : {}),
      },
      ...(action.principal ? { onBehalfOf: { id: action.principal.id, ...(action.principal.type ? { type: action.principal.type } : {}), ...(action.principal.roles ? { roles: action.principal.roles } : {}) } } : {}),
      ...(action.agent ? { agent: { id: action.agent.id, ...(action.agent.kind ? { kind: action.agent.kind } : {}), ...(action.agent.model ? { model: action.agent.model } : {}), ...(action.agent.owner ? { owner: action.agent.owner } : {}) } } : {}),
      ...(tool
        ? { target: { kind: 'tool' as const, server: tool.server, name: tool.name, ...(tool.definitionHash ? { definitionHash: tool.definitionHash } : {}) } }
        : action.resource
          ? { target: { kind: 'resource' as const, uri: action.resource.uri, ...(action.resource.server ? { server: action.resource.server } : {}) } }
          : {}),
      action: { kind: action.kind },
      decision,
      ...(action.args !== undefined ? { payload: { argsDigest: digestJson(action.args), ...(opts.capturedArgs !== undefined ? { args: opts.capturedArgs } : {}) } } : {}),
      ...(opts.latencyMs !== undefined ? { latencyMs: Math.round(opts.latencyMs * 1000) / 1000 } : {}),
      ...(trace ? { trace: { traceId: trace[1]!, spanId: trace[2]! } } : {}),
      // Who submitted the action (the enforcer or agent credential that called the checkpoint), and
      // what else the policies saw of it: enough to decide it again (`warden policy replay`).
      ...detailsOf(caller?.via, actionFacts(action)),
    },
    opts.time,
  );
}

function detailsOf(via: CallerInfo['via'], facts: ActionFacts | undefined): { details?: Record<string, unknown> } {
  if (!via && !facts) return {};
  return { details: { ...(via ? { submittedBy: via } : {}), ...(facts ? { action: facts } : {}) } };
}

/**
 * The facts of an action a decision event holds nowhere else (the event keeps the agent's id, kind,
 * model and owner, the principal's id, type and roles, the tool's server, name and definition hash,
 * the arguments' digest and the time the policies saw): undefined when there are none, which is the
 * common case, so most events carry nothing more.
 */
export interface ActionFacts {
  agent?: { status?: string; attributes?: Record<string, unknown> };
  principal?: { attributes?: Record<string, unknown> };
  tool?: { risk?: string; owner?: string; capabilities?: string[]; classification?: string; status?: string; attributes?: Record<string, unknown> };
  context?: Record<string, unknown>;
}

function actionFacts(action: Action): ActionFacts | undefined {
  const out: ActionFacts = {};
  const a = action.agent;
  if (a && (a.status !== undefined || a.attributes !== undefined)) out.agent = { ...(a.status !== undefined ? { status: a.status } : {}), ...(a.attributes !== undefined ? { attributes: a.attributes } : {}) };
  if (action.principal?.attributes !== undefined) out.principal = { attributes: action.principal.attributes };
  const t = action.tool;
  if (t) {
    const tool: NonNullable<ActionFacts['tool']> = {};
    if (t.risk !== undefined) tool.risk = t.risk;
    if (t.owner !== undefined) tool.owner = t.owner;
    if (t.capabilities !== undefined) tool.capabilities = [...t.capabilities];
    if (t.classification !== undefined) tool.classification = t.classification;
    if (t.status !== undefined) tool.status = t.status;
    if (t.attributes !== undefined) tool.attributes = t.attributes;
    if (Object.keys(tool).length > 0) out.tool = tool;
  }
  if (action.context) {
    // The time is in `decision.context`; the rest (environment, ip, claimed time, custom fields) here.
    const { time: _time, ...rest } = action.context;
    if (Object.keys(rest).length > 0) out.context = rest;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Why a decision event cannot be decided again as it was. */
export type NotReplayable = 'not-a-decision' | 'registry-refusal' | 'unreadable';

/**
 * The action a decision event was decided on, as far as the event keeps it: arguments only when
 * they were captured (then masked where a scan section redacted them), else undefined with
 * `argsCaptured: false`. The inverse of `buildDecisionEvent` (test/replay.test.ts round-trips it).
 */
export function actionOfDecisionEvent(e: AuditEvent): { action: Action; argsCaptured: boolean; hadArgs: boolean; time: string | undefined; findings: readonly Finding[] } | { notReplayable: NotReplayable } {
  if (e.category !== 'decision' || !e.decision || !e.action || !e.type.endsWith('.decided')) return { notReplayable: 'not-a-decision' };
  // The registry refused it (a suspended agent, a blocked tool): no policy decided.
  if (e.decision.reasons.some((r) => r.policy === 'registry')) return { notReplayable: 'registry-refusal' };
  const kind = e.action.kind as Action['kind'];
  const facts = ((e.details as { action?: ActionFacts } | undefined)?.action ?? {}) as ActionFacts;
  const action: Action = { kind, scope: e.scope } as Action;
  if (e.agent) action.agent = { id: e.agent.id, ...(e.agent.kind ? { kind: e.agent.kind } : {}), ...(e.agent.model ? { model: e.agent.model } : {}), ...(e.agent.owner ? { owner: e.agent.owner } : {}), ...(facts.agent ?? {}) } as Action['agent'];
  if (e.onBehalfOf) action.principal = { id: e.onBehalfOf.id, ...(e.onBehalfOf.type ? { type: e.onBehalfOf.type } : {}), ...(e.onBehalfOf.roles ? { roles: e.onBehalfOf.roles } : {}), ...(facts.principal ?? {}) } as Action['principal'];
  const target = e.target;
  if (target?.kind === 'tool' && target.server !== undefined && target.name !== undefined) {
    action.tool = { server: target.server, name: target.name, ...(target.definitionHash ? { definitionHash: target.definitionHash } : {}), ...(facts.tool ?? {}) } as Action['tool'];
  } else if (target?.kind === 'resource' && target.uri !== undefined) {
    action.resource = { uri: target.uri, ...(target.server ? { server: target.server } : {}) };
  } else if (kind === 'tool.call') return { notReplayable: 'unreadable' };
  const hadArgs = e.payload?.argsDigest !== undefined;
  const captured = e.payload?.args;
  if (captured !== undefined && captured !== null && typeof captured === 'object') action.args = captured as Action['args'];
  const time = e.decision.context?.time;
  if (facts.context || time) action.context = { ...(facts.context ?? {}), ...(time ? { time } : {}) } as Action['context'];
  return { action, argsCaptured: captured !== undefined, hadArgs, time, findings: e.decision.findings ?? [] };
}

const SEVERITY_RANK = { low: 1, medium: 2, high: 3, critical: 4 } as const;

/** A `finding.detected` event: what the mandated detectors saw on an action's input or output. */
export function buildDetectionEvent(action: Action, findings: readonly Finding[], opts: { time: Date; source: 'input' | 'output'; correlationId?: string; caller?: CallerInfo }): AuditEvent {
  const worst = findings.reduce((w, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[w] ? f.severity : w), 'low' as Finding['severity']);
  return newAuditEvent(
    {
      ...(opts.caller?.tenantId !== undefined ? { tenantId: opts.caller.tenantId } : {}),
      scope: action.scope,
      category: 'detection',
      type: 'finding.detected',
      severity: worst,
      outcome: 'success',
      actor: { type: action.agent ? 'agent' : 'system', id: action.agent?.id ?? 'anonymous', ...(opts.caller?.ip ? { ip: opts.caller.ip } : {}), ...(opts.caller?.sessionId !== undefined ? { sessionId: opts.caller.sessionId } : {}) },
      ...(action.agent ? { agent: { id: action.agent.id } } : {}),
      ...(action.principal ? { onBehalfOf: { id: action.principal.id } } : {}),
      ...(action.tool ? { target: { kind: 'tool' as const, server: action.tool.server, name: action.tool.name } } : {}),
      action: { kind: action.kind },
      // Findings carry redacted evidence only, never the matched text.
      findings: [...findings],
      details: { source: opts.source, categories: [...new Set(findings.map((f) => f.category))] },
      ...(opts.correlationId ? { correlationId: opts.correlationId } : {}),
    },
    opts.time,
  );
}
