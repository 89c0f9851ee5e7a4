import type { AuditEvent } from '../domain/index.js';

/** The CSV export's columns, in order; nested parts are flattened, the rest is in `event_json`. */
export const CSV_COLUMNS = [
  'id', 'time', 'logged_at', 'tenant_id', 'scope', 'category', 'type', 'severity', 'outcome', 'actor_type', 'actor_id', 'actor_ip',
  'on_behalf_of', 'agent_id', 'target_kind', 'target_server', 'target_name', 'effect', 'policy', 'rule', 'message', 'seq', 'prev_hash', 'hash', 'event_json',
] as const;

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  // RFC 4180 quoting; a leading =,+,-,@ is prefixed so a spreadsheet never runs a cell as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One RFC 4180 line for an event (no line break at the end). */
export function toCsvRow(e: AuditEvent): string {
  const reason = e.decision?.reasons[0];
  const values: unknown[] = [
    e.id, e.time, e.loggedAt, e.tenantId, e.scope, e.category, e.type, e.severity, e.outcome, e.actor.type, e.actor.id, e.actor.ip,
    e.onBehalfOf?.id, e.agent?.id, e.target?.kind, e.target?.server, e.target?.name ?? e.target?.uri, e.decision?.effect, reason?.policy, reason?.rule, reason?.message,
    e.integrity?.seq, e.integrity?.prevHash, e.integrity?.hash, JSON.stringify(e),
  ];
  return values.map(cell).join(',');
}
