import { createHash } from 'node:crypto';
import { AUDIT_SCHEMA_VERSION, uuidv7, type Action, type AuditEvent, type Decision } from '../domain/index.js';

/** Who called, as the enforcement point saw it. */
export interface CallerInfo {
  ip?: string;
  userAgent?: string;
}

function stableJson(value: unknown): string {
  // Key-sorted JSON so equal arguments give equal digests whatever order a client sent them in.
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The `tool.call.decided`-style event for one decision; arguments are kept as a digest only. */
export function buildDecisionEvent(action: Action, decision: Decision, opts: { time: Date; caller?: CallerInfo; latencyMs?: number }): AuditEvent {
  return {
    id: uuidv7(opts.time.getTime()),
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: opts.time.toISOString(),
    category: 'decision',
    type: `${action.kind}.decided`,
    scope: action.scope,
    actionKind: action.kind,
    ...(action.agent ? { agentId: action.agent.id } : {}),
    ...(action.principal ? { principalId: action.principal.id } : {}),
    ...(action.tool ? { server: action.tool.server, tool: action.tool.name } : action.resource?.server ? { server: action.resource.server } : {}),
    effect: decision.effect,
    decision,
    ...(action.args !== undefined ? { argsDigest: `sha256:${createHash('sha256').update(stableJson(action.args)).digest('hex')}` } : {}),
    ...(opts.caller && (opts.caller.ip || opts.caller.userAgent) ? { client: { ...(opts.caller.ip ? { ip: opts.caller.ip } : {}), ...(opts.caller.userAgent ? { userAgent: opts.caller.userAgent } : {}) } } : {}),
    ...(opts.latencyMs !== undefined ? { latencyMs: Math.round(opts.latencyMs * 1000) / 1000 } : {}),
  };
}
