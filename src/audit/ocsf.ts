import type { AuditEvent } from '../domain/index.js';

/** The OCSF schema version exports claim; docs/audit-schema.md maps each field. */
export const OCSF_VERSION = '1.3.0';

const SEVERITY_ID: Record<AuditEvent['severity'], number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

/** OCSF class per Warden category: uid, category uid, and the activity each event type maps to. */
const CLASS = {
  api_activity: { class_uid: 6003, category_uid: 6, class_name: 'API Activity', category_name: 'Application Activity' },
  detection_finding: { class_uid: 2004, category_uid: 2, class_name: 'Detection Finding', category_name: 'Findings' },
  entity_management: { class_uid: 3004, category_uid: 3, class_name: 'Entity Management', category_name: 'Identity & Access Management' },
  authentication: { class_uid: 3002, category_uid: 3, class_name: 'Authentication', category_name: 'Identity & Access Management' },
  event_log: { class_uid: 1008, category_uid: 1, class_name: 'Event Log Activity', category_name: 'System Activity' },
} as const;

/** Which OCSF class an event lands in. */
export function ocsfClassOf(e: AuditEvent): keyof typeof CLASS {
  switch (e.category) {
    case 'decision':
    case 'tool_call':
      return 'api_activity';
    case 'detection':
      return 'detection_finding';
    case 'approval':
    case 'admin':
      return 'entity_management';
    case 'auth':
      return 'authentication';
    case 'audit_system':
      return 'event_log';
  }
}

function activityOf(e: AuditEvent, cls: keyof typeof CLASS): { id: number; name: string } {
  const verb = e.type.split('.').at(-1) ?? '';
  if (cls === 'api_activity') {
    // A tool call or decision reads or invokes; list/read kinds are Read, the rest Other (99).
    return /list|read|get/.test(e.action?.kind ?? e.type) ? { id: 2, name: 'Read' } : { id: 99, name: e.type };
  }
  if (cls === 'detection_finding') return { id: 1, name: 'Create' };
  if (cls === 'entity_management') {
    const map: Record<string, [number, string]> = { created: [1, 'Create'], read: [2, 'Read'], updated: [3, 'Update'], changed: [3, 'Update'], deleted: [4, 'Delete'], approved: [8, 'Enable'], enabled: [8, 'Enable'], blocked: [9, 'Disable'], disabled: [9, 'Disable'], suspended: [12, 'Suspend'] };
    const hit = map[verb];
    return hit ? { id: hit[0], name: hit[1] } : { id: 99, name: e.type };
  }
  if (cls === 'authentication') return verb === 'logout' ? { id: 2, name: 'Logoff' } : { id: 1, name: 'Logon' };
  const map: Record<string, [number, string]> = { cleared: [1, 'Clear'], deleted: [2, 'Delete'], exported: [3, 'Export'], archived: [4, 'Archive'], enabled: [9, 'Enable'], disabled: [10, 'Disable'] };
  const hit = map[verb];
  return hit ? { id: hit[0], name: hit[1] } : { id: 99, name: e.type };
}

function statusOf(e: AuditEvent): { status_id: number; status: string } {
  return e.outcome === 'success' ? { status_id: 1, status: 'Success' } : e.outcome === 'pending' ? { status_id: 99, status: 'Pending' } : { status_id: 2, status: 'Failure' };
}

/**
 * Maps a Warden event to one OCSF event of the class its category names (API Activity,
 * Detection Finding, Entity Management, Authentication or Event Log Activity). Fields OCSF has no
 * place for travel in `unmapped`; the hash chain goes in `metadata` and `unmapped.integrity`.
 */
export function toOcsf(e: AuditEvent): Record<string, unknown> {
  const key = ocsfClassOf(e);
  const cls = CLASS[key];
  const activity = activityOf(e, key);
  const base: Record<string, unknown> = {
    class_uid: cls.class_uid,
    class_name: cls.class_name,
    category_uid: cls.category_uid,
    category_name: cls.category_name,
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: cls.class_uid * 100 + activity.id,
    time: Date.parse(e.time),
    severity_id: SEVERITY_ID[e.severity],
    severity: e.severity === 'info' ? 'Informational' : e.severity[0]!.toUpperCase() + e.severity.slice(1),
    ...statusOf(e),
    message: e.decision?.reasons[0]?.message ?? e.type,
    metadata: {
      version: OCSF_VERSION,
      uid: e.id,
      product: { name: 'Warden', vendor_name: 'Warden', version: e.producer?.version ?? e.schemaVersion },
      tenant_uid: e.tenantId,
      ...(e.loggedAt ? { logged_time: Date.parse(e.loggedAt) } : {}),
      ...(e.integrity ? { sequence: e.integrity.seq } : {}),
      event_code: e.type,
      ...(e.correlationId ? { correlation_uid: e.correlationId } : {}),
    },
    actor: {
      user: { uid: e.onBehalfOf?.id ?? e.actor.id, type: e.actor.type, ...(e.actor.name ? { name: e.actor.name } : {}) },
      ...(e.actor.sessionId ? { session: { uid: e.actor.sessionId } } : {}),
      ...(e.agent ? { app_name: e.agent.kind ?? 'agent', app_uid: e.agent.id } : {}),
    },
    ...(e.trace ? { trace: { uid: e.trace.traceId, span: { uid: e.trace.spanId } } } : {}),
    unmapped: {
      scope: e.scope,
      schema_version: e.schemaVersion,
      ...(e.decision ? { decision: e.decision } : {}),
      ...(e.findings ? { findings: e.findings } : {}),
      ...(e.payload ? { payload: e.payload } : {}),
      ...(e.integrity ? { integrity: e.integrity } : {}),
      ...(e.details ? { details: e.details } : {}),
      ...(e.agent ? { ai_agent: { uid: e.agent.id, type: e.agent.kind, ai_model: e.agent.model } } : {}),
    },
  };
  const src = { ip: e.actor.ip ?? '0.0.0.0', ...(e.actor.userAgent ? { name: e.actor.userAgent } : {}) };
  if (key === 'api_activity') {
    return {
      ...base,
      api: { operation: e.action?.kind ?? e.type, service: { name: e.target?.server ?? 'warden' } },
      src_endpoint: src,
      ...(e.target ? { resources: [{ type: e.target.kind, name: e.target.name ?? e.target.uri ?? e.target.server }] } : {}),
      ...(e.latencyMs !== undefined ? { duration: Math.round(e.latencyMs) } : {}),
      ...(e.decision
        ? { action_id: e.decision.effect === 'allow' ? 1 : 2, action: e.decision.effect === 'allow' ? 'Allowed' : 'Denied', disposition_id: e.decision.effect === 'allow' ? 1 : e.decision.effect === 'deny' ? 2 : 14, disposition: e.decision.effect === 'allow' ? 'Allowed' : e.decision.effect === 'deny' ? 'Blocked' : 'Delayed' }
        : {}),
    };
  }
  if (key === 'detection_finding') {
    const all = e.findings ?? e.decision?.findings ?? [];
    const f = all[0];
    return {
      ...base,
      finding_info: { uid: e.id, title: f ? `${f.category}: ${f.type}` : e.type, types: all.map((x) => x.category) },
      ...(f ? { risk_score: Math.round(f.score * 100) } : {}),
      evidences: all.map((x) => ({ data: { detector: x.detector, evidence: x.evidence, start: x.start, end: x.end } })),
      is_alert: true,
    };
  }
  if (key === 'entity_management') {
    return { ...base, entity: { name: e.target?.name ?? e.target?.kind ?? e.type, type: e.target?.kind ?? 'entity', ...(e.target?.definitionHash ? { uid: e.target.definitionHash } : {}) } };
  }
  if (key === 'authentication') return { ...base, user: { uid: e.actor.id }, src_endpoint: src };
  return { ...base, log_name: 'warden-audit', log_provider: 'Warden' };
}
