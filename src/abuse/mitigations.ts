import { newAuditEvent, WardenError, type AuditSink, type Clock, type Mitigation } from '../domain/index.js';
import { scopeOfEntity, type AbuseActor } from './labels.js';
import type { MitigationStore } from './ports.js';

/**
 * Lifts a mitigation before its end, by hand (`POST /api/v1/abuse/mitigations/:id/lift`), and audits
 * `abuse.mitigation.lifted`; `abuse.mitigation_not_found` when it is unknown, already lifted or over.
 */
export async function liftMitigation(
  deps: { store: Pick<MitigationStore, 'lift'>; audit: Pick<AuditSink, 'append'>; clock: Clock },
  tenantId: string,
  id: string,
  by: string,
  actor: AbuseActor,
): Promise<Mitigation> {
  const now = deps.clock.now();
  const m = await deps.store.lift(tenantId, id, by, now);
  if (!m) throw new WardenError('abuse.mitigation_not_found', `no live mitigation \`${id}\` in this tenant`, { help: '`GET /api/v1/abuse/mitigations?live=true` lists the mitigations in force' });
  await deps.audit.append([
    newAuditEvent(
      { tenantId, scope: scopeOfEntity(tenantId, m.entity), category: 'admin', type: 'abuse.mitigation.lifted', severity: 'medium', outcome: 'success', actor, details: { id: m.id, entity: m.entity, kind: m.kind, caseId: m.caseId ?? null, until: m.until } },
      now,
    ),
  ]);
  return m;
}
