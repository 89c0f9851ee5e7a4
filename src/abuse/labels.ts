import { LABEL_NAME_PATTERN, newAuditEvent, WardenError, type AbuseSource, type AuditEvent, type AuditEventType, type AuditSink, type Clock, type Connotation, type EntityRef, type Label } from '../domain/index.js';
import { ABUSE_ACTORS, ABUSE_READERS, holdsAt, type Credential } from '../identity/index.js';
import type { LabelStore } from './ports.js';

// The roles come from the route table (src/identity/access.ts): one list for the gate and the scope checks.
export { ABUSE_ACTORS, ABUSE_READERS };

/** Who did it, as the audit event names them. */
export type AbuseActor = AuditEvent['actor'];

/** What a new label says; `expiresAt` (RFC 3339) or `ttlMs` bound it, neither: until removed. */
export interface LabelInput {
  entity: EntityRef;
  name: string;
  connotation: Connotation;
  reason: string;
  expiresAt?: string | undefined;
  ttlMs?: number | undefined;
}

/** Labels on entities: put by rules and analysts, read by policies (`agent.labels`) and the queue. */
export interface LabelService {
  /** Puts a label (replacing one of the same entity and name) and audits it. */
  add(tenantId: string, input: LabelInput, source: AbuseSource, actor: AbuseActor): Promise<Label>;
  /** Removes a live label; `abuse.label_not_found` when there is none. */
  remove(tenantId: string, entity: EntityRef, name: string, actor: AbuseActor): Promise<void>;
  /** The live labels of these entities now. */
  live(tenantId: string, entities: readonly EntityRef[]): Promise<Label[]>;
  list(tenantId: string, filter: { entity?: EntityRef; kind?: EntityRef['kind']; name?: string; limit?: number }): Promise<Label[]>;
}

export interface LabelServiceDeps {
  store: LabelStore;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
}

/**
 * Whether a credential may put or remove labels on `entity`: a label on an agent, a principal, a
 * session, a server, a tool or an address is read by policies at every scope, so it needs `owner`,
 * `admin` or `analyst` tenant-wide; a label on a scope needs the role at that scope.
 */
export function mayLabel(c: Credential, entity: EntityRef): boolean {
  return holdsAt(c.grants, ABUSE_ACTORS, entity.kind === 'scope' ? entity.id : undefined);
}

/** Refuses (`auth.forbidden`) a credential that may not label `entity` ({@link mayLabel}) or lift its mitigations. */
export function assertMayLabel(c: Credential, entity: EntityRef): void {
  if (!mayLabel(c, entity)) {
    throw new WardenError('auth.forbidden', entity.kind === 'scope' ? `labelling scope \`${entity.id}\` needs \`owner\`, \`admin\` or \`analyst\` there` : `labelling a ${entity.kind} or lifting its mitigations needs \`owner\`, \`admin\` or \`analyst\` for the whole tenant (policies read it at every scope)`);
  }
}

/** The entity a list filter names by `kind` and `entity` together; one without the other is refused. */
export function entityOfFilter(q: { kind?: EntityRef['kind'] | undefined; entity?: string | undefined }): EntityRef | undefined {
  if (q.entity === undefined) return undefined;
  if (q.kind === undefined) throw new WardenError('request.invalid', '`entity` needs `kind` (agent, principal, session, server, tool, ip or scope)');
  return { kind: q.kind, id: q.entity };
}

/** The label store's filter for a list request: one entity, or a kind, and a name. */
export function labelListFilter(q: { kind?: EntityRef['kind'] | undefined; entity?: string | undefined; name?: string | undefined; limit?: number | undefined }): { entity?: EntityRef; kind?: EntityRef['kind']; name?: string; limit: number } {
  const entity = entityOfFilter(q);
  return { ...(entity ? { entity } : q.kind ? { kind: q.kind } : {}), ...(q.name ? { name: q.name } : {}), limit: q.limit ?? 50 };
}

/** The scope an abuse event about `entity` is filed under: the scope itself, else the tenant. */
export const scopeOfEntity = (tenantId: string, entity: EntityRef): string => (entity.kind === 'scope' ? entity.id : tenantId);

const NAME = new RegExp(LABEL_NAME_PATTERN);

/** Builds the label service over its store. */
export function createLabelService(deps: LabelServiceDeps): LabelService {
  const { store, clock } = deps;
  const record = (type: AuditEventType, tenantId: string, label: Pick<Label, 'entity' | 'name'>, actor: AbuseActor, details: Record<string, unknown>) =>
    deps.audit.append([
      newAuditEvent(
        { tenantId, scope: scopeOfEntity(tenantId, label.entity), category: 'admin', type, severity: 'medium', outcome: 'success', actor, details: { entity: label.entity, name: label.name, ...details } },
        clock.now(),
      ),
    ]);

  return {
    async add(tenantId, input, source, actor) {
      const now = clock.now();
      if (!NAME.test(input.name)) throw new WardenError('request.invalid', `\`${input.name}\` is not a label name: lower-case letters, digits, \`_ . : -\`, at most 64`);
      if (input.reason.trim() === '') throw new WardenError('request.invalid', 'a label needs a reason, so whoever reads it later learns why it is there');
      if (input.ttlMs !== undefined && input.expiresAt !== undefined) throw new WardenError('request.invalid', 'give a label `expiresAt` or `ttlMs`, not both');
      if (input.ttlMs !== undefined && !(Number.isSafeInteger(input.ttlMs) && input.ttlMs > 0)) throw new WardenError('request.invalid', '`ttlMs` must be a positive whole number of milliseconds');
      const expires = input.ttlMs !== undefined ? new Date(now.getTime() + input.ttlMs) : input.expiresAt !== undefined ? new Date(input.expiresAt) : undefined;
      if (expires && Number.isNaN(expires.getTime())) throw new WardenError('request.invalid', `\`${input.expiresAt}\` is not an RFC 3339 time`);
      if (expires && expires.getTime() <= now.getTime()) throw new WardenError('request.invalid', 'a label must expire in the future');
      const label: Label = {
        tenantId,
        entity: input.entity,
        name: input.name,
        connotation: input.connotation,
        reason: input.reason,
        source,
        createdAt: now.toISOString(),
        ...(expires ? { expiresAt: expires.toISOString() } : {}),
      };
      await store.add(label);
      await record('abuse.label.added', tenantId, label, actor, { connotation: label.connotation, reason: label.reason, source, expiresAt: label.expiresAt ?? null });
      return label;
    },

    async remove(tenantId, entity, name, actor) {
      if (!(await store.remove(tenantId, entity, name, clock.now()))) {
        throw new WardenError('abuse.label_not_found', `${entity.kind} \`${entity.id}\` has no live label \`${name}\``, { help: '`GET /api/v1/abuse/labels` (or `warden labels list`) lists live labels' });
      }
      await record('abuse.label.removed', tenantId, { entity, name }, actor, {});
    },

    live: (tenantId, entities) => store.live(tenantId, entities, clock.now()),
    list: (tenantId, filter) => store.list(tenantId, filter, clock.now()),
  };
}
