import { sql, type Kysely, type RawBuilder } from 'kysely';
import { Value } from '@sinclair/typebox/value';
import type { CaseStore, LabelStore, MitigationStore, RuleStats } from '../abuse/ports.js';
import { CaseSchema, WardenError, type AbuseSource, type Case, type CaseOutcome, type CaseStatus, type EntityRef, type Label, type Mitigation } from '../domain/index.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

type Time = Date | string;
const iso = (d: Time): string => (d instanceof Date ? d : new Date(d)).toISOString();
const ruleOf = (s: AbuseSource): string | null => (s.kind === 'rule' ? s.rule : null);

/** `(kind, id)` pairs as one OR of equalities; callers return early on an empty list. */
function entityIn(entities: readonly EntityRef[], kindCol: string, idCol: string): RawBuilder<unknown> {
  return sql`(${sql.join(
    entities.map((e) => sql`(${sql.ref(kindCol)} = ${e.kind} AND ${sql.ref(idCol)} = ${e.id})`),
    sql` OR `,
  )})`;
}

interface LabelRow {
  tenant_id: string;
  entity_kind: EntityRef['kind'];
  entity_id: string;
  name: string;
  connotation: Label['connotation'];
  reason: string;
  source: string;
  created_at: Time;
  expires_at: Time | null;
}

const toLabel = (r: LabelRow): Label => ({
  tenantId: r.tenant_id,
  entity: { kind: r.entity_kind, id: r.entity_id },
  name: r.name,
  connotation: r.connotation,
  reason: r.reason,
  source: JSON.parse(r.source) as AbuseSource,
  createdAt: iso(r.created_at),
  ...(r.expires_at !== null ? { expiresAt: iso(r.expires_at) } : {}),
});

const LABEL_COLUMNS = sql.raw('tenant_id, entity_kind, entity_id, name, connotation, reason, source, created_at, expires_at');

/** Labels on entities; every call runs in `withTenant`. Adding a label that exists replaces it. */
export function createLabelRepo(db: Kysely<Schema>): LabelStore {
  const live = (now: Date) => sql`(expires_at IS NULL OR expires_at > ${now.toISOString()})`;
  return {
    add: (l) =>
      withTenant(db, l.tenantId, async (trx) => {
        await sql`INSERT INTO abuse_labels (tenant_id, entity_kind, entity_id, name, connotation, reason, source, rule, created_at, expires_at)
          VALUES (${l.tenantId}, ${l.entity.kind}, ${l.entity.id}, ${l.name}, ${l.connotation}, ${l.reason}, ${JSON.stringify(l.source)}, ${ruleOf(l.source)}, ${l.createdAt}, ${l.expiresAt ?? null})
          ON CONFLICT (tenant_id, entity_kind, entity_id, name) DO UPDATE SET connotation = excluded.connotation, reason = excluded.reason, source = excluded.source,
            rule = excluded.rule, created_at = excluded.created_at, expires_at = excluded.expires_at`.execute(trx);
      }),

    remove: (tenantId, entity, name, now) =>
      withTenant(db, tenantId, async (trx) => {
        // An expired row goes too (it was gone for every reader already), but only a live one counts as removed.
        const { rows } = await sql<{ live: boolean }>`DELETE FROM abuse_labels WHERE tenant_id = ${tenantId} AND entity_kind = ${entity.kind} AND entity_id = ${entity.id} AND name = ${name}
          RETURNING ${live(now)} AS live`.execute(trx);
        return rows[0]?.live === true;
      }),

    live: (tenantId, entities, now) =>
      entities.length === 0
        ? Promise.resolve([])
        : withTenant(db, tenantId, async (trx) => {
            const { rows } = await sql<LabelRow>`SELECT ${LABEL_COLUMNS} FROM abuse_labels WHERE tenant_id = ${tenantId} AND ${entityIn(entities, 'entity_kind', 'entity_id')} AND ${live(now)}
              ORDER BY entity_kind, entity_id, name`.execute(trx);
            return rows.map(toLabel);
          }),

    anyLive: (tenantId, now) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<{ one: number }>`SELECT 1 AS one FROM abuse_labels WHERE tenant_id = ${tenantId} AND ${live(now)} LIMIT 1`.execute(trx);
        return rows.length > 0;
      }),

    list: (tenantId, filter, now) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<LabelRow>`SELECT ${LABEL_COLUMNS} FROM abuse_labels WHERE tenant_id = ${tenantId} AND ${live(now)}
          ${filter.entity ? sql`AND entity_kind = ${filter.entity.kind} AND entity_id = ${filter.entity.id}` : sql``}
          ${filter.kind ? sql`AND entity_kind = ${filter.kind}` : sql``}
          ${filter.name ? sql`AND name = ${filter.name}` : sql``}
          ORDER BY created_at DESC, entity_kind, entity_id, name LIMIT ${filter.limit ?? 100}`.execute(trx);
        return rows.map(toLabel);
      }),
  };
}

interface MitigationRow {
  tenant_id: string;
  id: string;
  entity_kind: EntityRef['kind'];
  entity_id: string;
  kind: Mitigation['kind'];
  reason: string;
  source: string;
  case_id: string | null;
  lim: number | null;
  window_ms: number | null;
  created_at: Time;
  until: Time;
  lifted_at: Time | null;
  lifted_by: string | null;
}

const toMitigation = (r: MitigationRow): Mitigation => ({
  id: r.id,
  tenantId: r.tenant_id,
  entity: { kind: r.entity_kind, id: r.entity_id },
  kind: r.kind,
  reason: r.reason,
  source: JSON.parse(r.source) as AbuseSource,
  ...(r.case_id !== null ? { caseId: r.case_id } : {}),
  ...(r.lim !== null ? { limit: Number(r.lim) } : {}),
  ...(r.window_ms !== null ? { windowMs: Number(r.window_ms) } : {}),
  createdAt: iso(r.created_at),
  until: iso(r.until),
  ...(r.lifted_at !== null ? { liftedAt: iso(r.lifted_at) } : {}),
  ...(r.lifted_by !== null ? { liftedBy: r.lifted_by } : {}),
});

const MITIGATION_COLUMNS = sql.raw('tenant_id, id, entity_kind, entity_id, kind, reason, source, case_id, lim, window_ms, created_at, until, lifted_at, lifted_by');

/** Mitigations in force; every call runs in `withTenant` except `killsSince`, which spans tenants by design. */
export function createMitigationRepo(db: Kysely<Schema>): MitigationStore {
  const live = (now: Date) => sql`(lifted_at IS NULL AND until > ${now.toISOString()})`;
  return {
    add: (m) =>
      withTenant(db, m.tenantId, async (trx) => {
        await sql`INSERT INTO abuse_mitigations (tenant_id, id, entity_kind, entity_id, kind, reason, source, rule, case_id, lim, window_ms, created_at, until, lifted_at, lifted_by)
          VALUES (${m.tenantId}, ${m.id}, ${m.entity.kind}, ${m.entity.id}, ${m.kind}, ${m.reason}, ${JSON.stringify(m.source)}, ${ruleOf(m.source)}, ${m.caseId ?? null},
                  ${m.limit ?? null}, ${m.windowMs ?? null}, ${m.createdAt}, ${m.until}, ${m.liftedAt ?? null}, ${m.liftedBy ?? null})`.execute(trx);
      }),

    live: (tenantId, entities, now) =>
      entities.length === 0
        ? Promise.resolve([])
        : withTenant(db, tenantId, async (trx) => {
            const { rows } = await sql<MitigationRow>`SELECT ${MITIGATION_COLUMNS} FROM abuse_mitigations
              WHERE tenant_id = ${tenantId} AND ${entityIn(entities, 'entity_kind', 'entity_id')} AND ${live(now)} ORDER BY created_at, id`.execute(trx);
            return rows.map(toMitigation);
          }),

    anyLive: (tenantId, now) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<{ one: number }>`SELECT 1 AS one FROM abuse_mitigations WHERE tenant_id = ${tenantId} AND ${live(now)} LIMIT 1`.execute(trx);
        return rows.length > 0;
      }),

    get: (tenantId, id) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<MitigationRow>`SELECT ${MITIGATION_COLUMNS} FROM abuse_mitigations WHERE tenant_id = ${tenantId} AND id = ${id}`.execute(trx);
        return rows[0] ? toMitigation(rows[0]) : undefined;
      }),

    lift: (tenantId, id, by, at) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<MitigationRow>`UPDATE abuse_mitigations SET lifted_at = ${at.toISOString()}, lifted_by = ${by}
          WHERE tenant_id = ${tenantId} AND id = ${id} AND ${live(at)} RETURNING ${MITIGATION_COLUMNS}`.execute(trx);
        return rows[0] ? toMitigation(rows[0]) : undefined;
      }),

    async killsSince(since) {
      // INVARIANT: the one read outside withTenant; the caller (a gateway's sweep) serves every tenant.
      const { rows } = await sql<MitigationRow>`SELECT ${MITIGATION_COLUMNS} FROM abuse_mitigations
        WHERE kind = 'kill' AND created_at > ${since.toISOString()} AND lifted_at IS NULL ORDER BY created_at, tenant_id, id`.execute(db);
      return rows.map(toMitigation);
    },

    list: (tenantId, filter, now) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<MitigationRow>`SELECT ${MITIGATION_COLUMNS} FROM abuse_mitigations WHERE tenant_id = ${tenantId}
          ${filter.entity ? sql`AND entity_kind = ${filter.entity.kind} AND entity_id = ${filter.entity.id}` : sql``}
          ${filter.live === true ? sql`AND ${live(now)}` : filter.live === false ? sql`AND NOT ${live(now)}` : sql``}
          ORDER BY created_at DESC, id DESC LIMIT ${filter.limit ?? 100}`.execute(trx);
        return rows.map(toMitigation);
      }),
  };
}

interface CaseRow {
  tenant_id: string;
  id: string;
  queue: string;
  category: string;
  severity: Case['severity'];
  scope: string;
  subject_kind: EntityRef['kind'];
  subject_id: string;
  summary: string;
  source: string;
  evidence: string;
  mitigations: string;
  proposed: string;
  suspended: boolean | null;
  labels_added: string | null;
  status: CaseStatus;
  claimed_by: string | null;
  claimed_at: Time | null;
  outcome: CaseOutcome | null;
  decided_by: string | null;
  decided_at: Time | null;
  notes: string;
  due_at: Time;
  created_at: Time;
  updated_at: Time;
}

const CASE_COLUMNS = sql.raw(
  'tenant_id, id, queue, category, severity, scope, subject_kind, subject_id, summary, source, evidence, mitigations, proposed, suspended, labels_added, status, claimed_by, claimed_at, outcome, decided_by, decided_at, notes, due_at, created_at, updated_at',
);

/** A row as a case, or undefined when a JSON column no longer parses or the result is not a case. */
function readCase(r: CaseRow): Case | undefined {
  try {
    const c: Case = {
      id: r.id,
      tenantId: r.tenant_id,
      queue: r.queue,
      category: r.category,
      severity: r.severity,
      scope: r.scope,
      subject: { kind: r.subject_kind, id: r.subject_id },
      summary: r.summary,
      source: JSON.parse(r.source) as Case['source'],
      evidence: JSON.parse(r.evidence) as Case['evidence'],
      mitigations: JSON.parse(r.mitigations) as string[],
      proposed: JSON.parse(r.proposed) as Case['proposed'],
      ...(r.suspended !== null ? { suspended: r.suspended } : {}),
      ...(r.labels_added !== null ? { labelsAdded: JSON.parse(r.labels_added) as string[] } : {}),
      status: r.status,
      ...(r.claimed_by !== null ? { claimedBy: r.claimed_by } : {}),
      ...(r.claimed_at !== null ? { claimedAt: iso(r.claimed_at) } : {}),
      ...(r.outcome !== null ? { outcome: r.outcome } : {}),
      ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}),
      ...(r.decided_at !== null ? { decidedAt: iso(r.decided_at) } : {}),
      notes: JSON.parse(r.notes) as Case['notes'],
      dueAt: iso(r.due_at),
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    };
    return Value.Check(CaseSchema, c) ? c : undefined;
  } catch {
    return undefined;
  }
}

/** A row read by id: a case, or refused with `abuse.case_tampered` (never served half-read). */
function toCase(r: CaseRow): Case {
  const c = readCase(r);
  if (!c) throw new WardenError('abuse.case_tampered', `abuse case \`${r.id}\` does not read as a case: a stored column was changed outside Warden`);
  return c;
}

/**
 * Cases in review queues; every call runs in `withTenant`. `claim` is one conditional UPDATE, so two
 * analysts claiming at once get one winner on either database. A list leaves out a row whose JSON
 * no longer reads as a case (a get by its id throws `abuse.case_tampered`), so one bad row does not
 * take the queue down.
 */
export function createCaseRepo(db: Kysely<Schema>): CaseStore {
  const one = async (trx: Kysely<Schema>, tenantId: string, id: string, lock = false): Promise<Case | undefined> => {
    const { rows } = await sql<CaseRow>`SELECT ${CASE_COLUMNS} FROM abuse_cases WHERE tenant_id = ${tenantId} AND id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`.execute(trx);
    return rows[0] ? toCase(rows[0]) : undefined;
  };
  return {
    open: (c) =>
      withTenant(db, c.tenantId, async (trx) => {
        await sql`INSERT INTO abuse_cases (tenant_id, id, queue, category, severity, scope, subject_kind, subject_id, summary, source, rule, evidence, mitigations, proposed, suspended, labels_added,
            status, claimed_by, claimed_at, outcome, decided_by, decided_at, notes, due_at, created_at, updated_at)
          VALUES (${c.tenantId}, ${c.id}, ${c.queue}, ${c.category}, ${c.severity}, ${c.scope}, ${c.subject.kind}, ${c.subject.id}, ${c.summary}, ${JSON.stringify(c.source)}, ${ruleOf(c.source)},
            ${JSON.stringify(c.evidence)}, ${JSON.stringify(c.mitigations)}, ${JSON.stringify(c.proposed)}, ${c.suspended ?? null}, ${c.labelsAdded ? JSON.stringify(c.labelsAdded) : null},
            ${c.status}, ${c.claimedBy ?? null}, ${c.claimedAt ?? null}, ${c.outcome ?? null}, ${c.decidedBy ?? null}, ${c.decidedAt ?? null}, ${JSON.stringify(c.notes)},
            ${c.dueAt}, ${c.createdAt}, ${c.updatedAt})`.execute(trx);
      }),

    get: (tenantId, id) => withTenant(db, tenantId, (trx) => one(trx, tenantId, id)),

    list: (tenantId, f) =>
      withTenant(db, tenantId, async (trx) => {
        if (f.scopes && f.scopes.length === 0) return { cases: [] };
        const limit = f.limit ?? 50;
        const scopes = f.scopes ? sql`AND (${sql.join(f.scopes.map((s) => sql`(scope = ${s} OR left(scope, ${s.length + 1}) = ${`${s}/`})`), sql` OR `)})` : sql``;
        const { rows } = await sql<CaseRow>`SELECT ${CASE_COLUMNS} FROM abuse_cases WHERE tenant_id = ${tenantId}
          ${f.queue !== undefined ? sql`AND queue = ${f.queue}` : sql``}
          ${f.status !== undefined ? sql`AND status = ${f.status}` : sql``}
          ${f.subject ? sql`AND subject_kind = ${f.subject.kind} AND subject_id = ${f.subject.id}` : sql``}
          ${f.rule !== undefined ? sql`AND rule = ${f.rule}` : sql``}
          ${f.dueBefore ? sql`AND status <> 'closed' AND due_at < ${f.dueBefore.toISOString()}` : sql``}
          ${f.after !== undefined ? sql`AND id < ${f.after}` : sql``}
          ${scopes}
          ORDER BY id DESC LIMIT ${limit + 1}`.execute(trx);
        const page = rows.slice(0, limit);
        const cases = page.map(readCase).filter((c): c is Case => c !== undefined);
        return { cases, ...(rows.length > limit ? { next: page[page.length - 1]!.id } : {}) };
      }),

    claim: (tenantId, id, principal, at) =>
      withTenant(db, tenantId, async (trx) => {
        // INVARIANT: exclusivity is this one conditional UPDATE; two claims at once cannot both match.
        const { rows } = await sql<CaseRow>`UPDATE abuse_cases
          SET status = 'claimed', claimed_by = ${principal}, claimed_at = CASE WHEN claimed_by = ${principal} THEN claimed_at ELSE ${at.toISOString()}::timestamptz END, updated_at = ${at.toISOString()}
          WHERE tenant_id = ${tenantId} AND id = ${id} AND (status = 'open' OR (status = 'claimed' AND claimed_by = ${principal}))
          RETURNING ${CASE_COLUMNS}`.execute(trx);
        if (rows[0]) return { case: toCase(rows[0]) };
        const current = await one(trx, tenantId, id);
        return current ? { conflict: current } : undefined;
      }),

    release: (tenantId, id, principal, at, force = false) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<CaseRow>`UPDATE abuse_cases SET status = 'open', claimed_by = NULL, claimed_at = NULL, updated_at = ${at.toISOString()}
          WHERE tenant_id = ${tenantId} AND id = ${id} AND status = 'claimed' ${force ? sql`` : sql`AND claimed_by = ${principal}`}
          RETURNING ${CASE_COLUMNS}`.execute(trx);
        return rows[0] ? toCase(rows[0]) : undefined;
      }),

    decide: (tenantId, id, d) =>
      withTenant(db, tenantId, async (trx) => {
        const current = await one(trx, tenantId, id, true);
        if (current?.status !== 'claimed' || current.claimedBy !== d.by) return undefined;
        const at = d.at.toISOString();
        const notes = d.note ? [...current.notes, { by: d.by, at, text: d.note }] : current.notes;
        const mitigations = [...current.mitigations, ...(d.applied?.mitigations ?? [])];
        const labelsAdded = [...new Set([...(current.labelsAdded ?? []), ...(d.applied?.labelsAdded ?? [])])];
        const suspended = current.suspended === true || d.applied?.suspended === true ? true : (current.suspended ?? null);
        const escalated = d.outcome === 'escalated';
        await sql`UPDATE abuse_cases SET status = ${escalated ? 'open' : 'closed'}, queue = ${escalated ? (d.queue ?? current.queue) : current.queue},
            claimed_by = ${escalated ? null : current.claimedBy}, claimed_at = ${escalated ? null : (current.claimedAt ?? null)},
            outcome = ${d.outcome}, decided_by = ${d.by}, decided_at = ${at}, escalations = escalations + ${escalated ? 1 : 0},
            notes = ${JSON.stringify(notes)}, mitigations = ${JSON.stringify(mitigations)}, suspended = ${suspended},
            labels_added = ${labelsAdded.length > 0 || current.labelsAdded ? JSON.stringify(labelsAdded) : null}, updated_at = ${at}
          WHERE tenant_id = ${tenantId} AND id = ${id}`.execute(trx);
        return one(trx, tenantId, id);
      }),

    addNote: (tenantId, id, note) =>
      withTenant(db, tenantId, async (trx) => {
        const current = await one(trx, tenantId, id, true);
        if (!current) return undefined;
        const at = note.at.toISOString();
        await sql`UPDATE abuse_cases SET notes = ${JSON.stringify([...current.notes, { by: note.by, at, text: note.text }])}, updated_at = ${at}
          WHERE tenant_id = ${tenantId} AND id = ${id}`.execute(trx);
        return one(trx, tenantId, id);
      }),

    ruleStats: (tenantId) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<{ rule: string; opened: string | number; confirmed: string | number; false_positive: string | number; escalated: string | number; open: string | number }>`
          SELECT rule, count(*) AS opened,
            count(*) FILTER (WHERE status = 'closed' AND outcome = 'confirmed') AS confirmed,
            count(*) FILTER (WHERE status = 'closed' AND outcome = 'false_positive') AS false_positive,
            count(*) FILTER (WHERE escalations > 0) AS escalated,
            count(*) FILTER (WHERE status <> 'closed') AS open
          FROM abuse_cases WHERE tenant_id = ${tenantId} AND rule IS NOT NULL GROUP BY rule ORDER BY rule`.execute(trx);
        return rows.map((r): RuleStats => {
          const confirmed = Number(r.confirmed);
          const falsePositive = Number(r.false_positive);
          return {
            rule: r.rule,
            opened: Number(r.opened),
            confirmed,
            falsePositive,
            escalated: Number(r.escalated),
            open: Number(r.open),
            ...(confirmed + falsePositive > 0 ? { precision: confirmed / (confirmed + falsePositive) } : {}),
          };
        });
      }),
  };
}
