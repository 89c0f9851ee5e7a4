import { newAuditEvent, WardenError, type AuditSink, type Clock, type EntityRef, type Mitigation } from '../domain/index.js';
import { personOf, type Credential } from '../identity/index.js';
import { assertMayLabel, entityOfFilter, scopeOfEntity, type AbuseActor } from './labels.js';
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

/**
 * The mitigation store's filter for a list request: one entity (`kind` and `entity` together; `kind`
 * alone filters nothing, so it is refused), live or not.
 */
export function mitigationListFilter(q: { kind?: EntityRef['kind'] | undefined; entity?: string | undefined; live?: boolean | undefined; limit?: number | undefined }): { entity?: EntityRef; live?: boolean; limit: number } {
  if (q.kind !== undefined && q.entity === undefined) throw new WardenError('request.invalid', '`kind` filters mitigations only together with `entity`');
  const entity = entityOfFilter(q);
  return { ...(entity ? { entity } : {}), ...(q.live !== undefined ? { live: q.live } : {}), limit: q.limit ?? 50 };
}

/**
 * Lifts a mitigation as a credential: `abuse.mitigation_not_found` when the tenant has none of that
 * id, `auth.forbidden` unless the credential may label its entity ({@link assertMayLabel}); then
 * {@link liftMitigation}, by the credential's person.
 */
export async function liftMitigationAs(
  deps: { store: Pick<MitigationStore, 'get' | 'lift'>; audit: Pick<AuditSink, 'append'>; clock: Clock },
  c: Credential,
  id: string,
  actor: AbuseActor,
): Promise<Mitigation> {
  const m = await deps.store.get(c.tenantId, id);
  if (!m) throw new WardenError('abuse.mitigation_not_found', `no mitigation \`${id}\` in this tenant`);
  assertMayLabel(c, m.entity);
  return liftMitigation(deps, c.tenantId, m.id, personOf(c), actor);
}
