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
      // Who submitted the action: the enforcer or agent credential that called the checkpoint.
      ...(caller?.via ? { details: { submittedBy: caller.via } } : {}),
    },
    opts.time,
  );
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
      actor: { type: action.agent ? 'agent' : 'system', id: action.agent?.id ?? 'anonymous', ...(opts.caller?.ip ? { ip: opts.caller.ip } : {}) },
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
