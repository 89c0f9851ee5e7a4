import { newAuditEvent, parseInstant, uuidv7, WardenError, type AuditEvent } from '../domain/index.js';
import type { AuditSink, Clock } from '../domain/index.js';
import type { LegalHold, PartitionDrop, RetentionOutcome, RetentionStore } from './ports.js';

/** Who made a change: the credential's actor through the API, the local operator on the database. */
export type RetentionActor = AuditEvent['actor'];

/** A legal hold to place; `createdBy` is taken from the actor. */
export interface NewHold {
  tenantId: string;
  scope: string;
  /** RFC 3339 with an offset, inclusive. */
  from?: string | undefined;
  /** RFC 3339 with an offset, exclusive. */
  to?: string | undefined;
  reason: string;
}

/** Retention as a service: every change and every removal is itself an audit event naming who made it. */
export interface RetentionService {
  /**
   * Removes what each category's period has expired, except under legal holds; audits each removal.
   * Whole months that have expired are dropped as partitions first; the rest goes row by row.
   */
  run(): Promise<RetentionOutcome[]>;
  /** The partitions the last `run` dropped. */
  lastDrops(): readonly PartitionDrop[];
  /** Sets (or with `days` undefined, clears) a category's period in one tenant. */
  setRetention(tenantId: string, category: string, days: number | undefined, by: RetentionActor): Promise<void>;
  /** @throws WardenError `request.invalid` when `from` or `to` is not an RFC 3339 time with an offset. */
  addHold(hold: NewHold, by: RetentionActor): Promise<LegalHold>;
  /** Releases an active hold of `tenantId`; undefined when that tenant has no active hold `id`. */
  releaseHold(tenantId: string, id: string, by: RetentionActor): Promise<LegalHold | undefined>;
}

const SYSTEM: RetentionActor = { type: 'system', id: 'warden' };

function adminEvent(tenantId: string, type: string, actor: RetentionActor, details: Record<string, unknown>, now: Date, scope = '*', id?: string): AuditEvent {
  return newAuditEvent(
    { ...(id ? { id } : {}), tenantId, scope, category: 'audit_system', type, outcome: 'success', severity: type.endsWith('deleted') ? 'medium' : 'info', actor, target: { kind: 'audit' }, details },
    now,
  );
}

/** Builds the retention service over its store and the audit writer. */
export function createRetentionService(deps: { store: RetentionStore; audit: Pick<AuditSink, 'append'>; clock: Clock }): RetentionService {
  let drops: PartitionDrop[] = [];
  return {
    lastDrops: () => drops,
    async run() {
      const now = deps.clock.now();
      const out: RetentionOutcome[] = [];
      const newId = () => uuidv7(now.getTime());
      drops = await deps.store.dropExpiredPartitions(now.toISOString(), newId);
      for (const d of drops) {
        for (const t of d.tenants) {
          const details = { partition: d.partition, from: d.from, to: d.to, removed: t.removed, fromSeq: t.fromSeq, toSeq: t.toSeq, ...(t.seqs === undefined ? {} : { seqs: t.seqs }) };
          await deps.audit.append([adminEvent(t.tenantId, 'audit.retention.partition_dropped', SYSTEM, details, now, '*', t.removalId)]);
        }
      }
      for (const r of await deps.store.retention()) {
        const before = new Date(now.getTime() - r.days * 86_400_000).toISOString();
        const outcome = await deps.store.removeExpired(r.tenantId, r.category, before, newId());
        out.push(outcome);
        if (outcome.removed > 0 || outcome.held > 0) {
          // The removal is declared in the same chain it removed from, under the id every stub names,
          // so verify can account for each stub (docs/audit-schema.md, "Retention and legal holds").
          const { removalId, seqs, ...counts } = outcome;
          await deps.audit.append([adminEvent(r.tenantId, 'audit.retention.deleted', SYSTEM, { ...counts, ...(seqs === undefined ? {} : { seqs }), days: r.days }, now, '*', removalId)]);
        }
      }
      return out;
    },
    async setRetention(tenantId, category, days, by) {
      await deps.store.setRetention(tenantId, category, days);
      await deps.audit.append([adminEvent(tenantId, days === undefined ? 'audit.retention.cleared' : 'audit.retention.updated', by, { category, days: days ?? null }, deps.clock.now())]);
    },
    async addHold(h, by) {
      // One form for the database row and the chained event, so verify judges a hold as the store applied it.
      const from = h.from === undefined ? undefined : holdInstant(h.from, 'from');
      const to = h.to === undefined ? undefined : holdInstant(h.to, 'to');
      const hold: LegalHold = { id: uuidv7(), tenantId: h.tenantId, scope: h.scope, from, to, reason: h.reason, createdBy: by.id, createdAt: deps.clock.now().toISOString(), releasedAt: undefined };
      await deps.store.addHold(hold);
      await deps.audit.append([adminEvent(h.tenantId, 'audit.hold.created', by, { id: hold.id, scope: h.scope, from: from ?? null, to: to ?? null, reason: h.reason }, deps.clock.now(), h.scope)]);
      return hold;
    },
    async releaseHold(tenantId, id, by) {
      // Looked up in the tenant first: another tenant's hold is never released, and an id that is not
      // a hold's (not even a UUID) never reaches the store.
      const hold = (await deps.store.holds(tenantId)).find((x) => x.id === id && x.releasedAt === undefined);
      if (!hold || !(await deps.store.releaseHold(id))) return undefined;
      const at = deps.clock.now();
      await deps.audit.append([adminEvent(tenantId, 'audit.hold.released', by, { id, scope: hold.scope }, at, hold.scope)]);
      return { ...hold, releasedAt: at.toISOString() };
    },
  };
}

/**
 * A hold's bound as one UTC instant at millisecond precision: an offset is required (a time without
 * one would be read in the database session's zone by the store and in the verifier's by verify), and
 * sub-millisecond digits are cut, as JavaScript reads them, before the store ever sees them.
 */
function holdInstant(text: string, which: 'from' | 'to'): string {
  const ms = parseInstant(text);
  if (ms === undefined) {
    throw new WardenError('request.invalid', `the hold's \`${which}\` \`${text}\` is not an RFC 3339 time with an offset`, { help: 'e.g. 2026-12-01T00:00:00Z or 2026-12-01T09:00:00+09:00' });
  }
  return new Date(ms).toISOString();
}
