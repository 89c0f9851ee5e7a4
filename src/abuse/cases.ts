import { newAuditEvent, uuidv7, WardenError, type AuditEventType, type AuditSink, type Case, type CaseStatus, type Clock, type EntityRef } from '../domain/index.js';
import { actorOf, holdsAt, personOf, readableScopes, scopeCovers, type Credential } from '../identity/index.js';
import { ABUSE_ACTORS, ABUSE_READERS } from './labels.js';
import type { CasePage, CaseStore, Mitigator, OpenCaseInput, CaseOpener, RuleStats } from './ports.js';
import type { QueueRoute } from './rule-compile.js';

// Routes are compiled from `kind: AbuseQueue` documents (src/abuse/rule-compile.ts): the first whose
// scopes (equal or above the case's; empty: any) and categories (empty: any) match takes a case.
export type { QueueRoute };

/** The queue of a case no route matches. */
export const DEFAULT_QUEUE = 'default';
/** Its SLA: 24 h. */
export const DEFAULT_SLA_MS = 24 * 3_600_000;
/** Where an escalation goes when its queue names no `escalateTo`. */
export const ESCALATED_QUEUE = 'escalated';

/**
 * The mitigator before the rule engine's is wired: confirming applies nothing, a false positive
 * undoes nothing. src/main/core.ts replaces it once src/abuse/verdicts.ts lands.
 */
export const NO_MITIGATOR: Mitigator = {
  apply: async () => ({ mitigations: [], suspended: false, labelsAdded: [] }),
  undo: async () => {},
};

export type { OpenCaseInput };

/** What a list asks for; `overdue`: not closed and past `dueAt`. */
export interface CaseFilter {
  queue?: string | undefined;
  status?: CaseStatus | undefined;
  rule?: string | undefined;
  subject?: EntityRef | undefined;
  overdue?: boolean | undefined;
  after?: string | undefined;
  limit?: number | undefined;
}

/** An analyst's decision. `queue` only with `escalated` (else the route's `escalateTo`). */
export interface CaseDecision {
  outcome: Case['outcome'] & string;
  note?: string | undefined;
  queue?: string | undefined;
}

/** The review queue: cases opened by rules, claimed by one analyst at a time, decided once. */
export interface CaseService extends CaseOpener {
  /** Routes, sets `dueAt`, stores and audits a new case (rules call it; no credential). */
  open(input: OpenCaseInput): Promise<Case>;
  list(c: Credential, filter: CaseFilter): Promise<CasePage>;
  get(c: Credential, id: string): Promise<Case>;
  claim(c: Credential, id: string): Promise<Case>;
  /** Releases the caller's claim; an owner or admin at the case's scope may release anyone's. */
  release(c: Credential, id: string): Promise<Case>;
  decide(c: Credential, id: string, d: CaseDecision): Promise<Case>;
  note(c: Credential, id: string, text: string): Promise<Case>;
  /** Per-rule counts and precision over the tenant's cases. */
  ruleStats(c: Credential): Promise<RuleStats[]>;
}

export interface CaseServiceDeps {
  store: CaseStore;
  /** Read at each decision, so the composition root can wire the rule engine's after building this. */
  mitigator: () => Mitigator;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  queues: readonly QueueRoute[];
}

/** The route a case goes to, or the default queue. */
export function routeOf(queues: readonly QueueRoute[], scope: string, category: string): { name: string; slaMs: number; escalateTo?: string } {
  const hit = queues.find((q) => (q.scopes.length === 0 || q.scopes.some((s) => scopeCovers(s, scope))) && (q.categories.length === 0 || q.categories.includes(category)));
  return hit ?? { name: DEFAULT_QUEUE, slaMs: DEFAULT_SLA_MS };
}

const notFound = (id: string) =>
  new WardenError('abuse.case_not_found', `no abuse case \`${id}\` that this credential may see`, { help: '`GET /api/v1/abuse/cases` (or `warden cases list`) lists the cases you may see' });

/** Builds the case service over its store. */
export function createCaseService(deps: CaseServiceDeps): CaseService {
  const { store, clock } = deps;

  const record = async (type: AuditEventType, k: Case, actor: ReturnType<typeof actorOf> | { type: 'system'; id: string; name: string }, details: Record<string, unknown> = {}) => {
    await deps.audit.append([
      newAuditEvent(
        {
          tenantId: k.tenantId,
          scope: k.scope,
          category: 'admin',
          type,
          severity: type === 'abuse.case.opened' || type === 'abuse.case.decided' ? 'medium' : 'low',
          outcome: 'success',
          actor,
          ...(k.subject.kind === 'agent' ? { agent: { id: k.subject.id } } : {}),
          details: { caseId: k.id, queue: k.queue, status: k.status, subject: k.subject, category: k.category, ...(k.source.kind === 'rule' ? { rule: k.source.rule } : {}), ...details },
        },
        clock.now(),
      ),
    ]);
  };

  /** A case the caller may read: in its tenant, with a reading role at the case's scope. */
  const load = async (c: Credential, id: string): Promise<Case> => {
    const k = await store.get(c.tenantId, id);
    if (!k || k.tenantId !== c.tenantId || !holdsAt(c.grants, ABUSE_READERS, k.scope)) throw notFound(id);
    return k;
  };
  /** A case the caller may act on: as `load`, and `owner`, `admin` or `analyst` at its scope. */
  const loadToAct = async (c: Credential, id: string): Promise<Case> => {
    const k = await load(c, id);
    if (!holdsAt(c.grants, ABUSE_ACTORS, k.scope)) throw new WardenError('auth.forbidden', `working abuse case \`${id}\` needs \`owner\`, \`admin\` or \`analyst\` at \`${k.scope}\``);
    return k;
  };
  const closed = (k: Case) => new WardenError('abuse.case_closed', `abuse case \`${k.id}\` was already decided (${k.outcome ?? 'closed'}) by \`${k.decidedBy ?? 'unknown'}\``);
  const heldBy = (k: Case) =>
    new WardenError('abuse.case_claimed', `abuse case \`${k.id}\` is claimed by \`${k.claimedBy ?? 'unknown'}\``, { help: 'ask them to release it, or an owner or admin at its scope can release it' });

  return {
    async open(input) {
      const now = clock.now();
      const route = routeOf(deps.queues, input.scope, input.category);
      const at = now.toISOString();
      const k: Case = {
        id: `case_${uuidv7(now.getTime()).replaceAll('-', '')}`,
        tenantId: input.tenantId,
        queue: route.name,
        category: input.category,
        severity: input.severity,
        scope: input.scope,
        subject: input.subject,
        summary: input.summary,
        source: input.source,
        evidence: input.evidence,
        mitigations: [...input.mitigations],
        proposed: [...input.proposed],
        ...(input.suspended !== undefined ? { suspended: input.suspended } : {}),
        ...(input.labelsAdded ? { labelsAdded: [...input.labelsAdded] } : {}),
        status: 'open',
        notes: [],
        dueAt: new Date(now.getTime() + route.slaMs).toISOString(),
        createdAt: at,
        updatedAt: at,
      };
      await store.open(k);
      await record('abuse.case.opened', k, { type: 'system', id: 'warden', name: 'Warden' }, { severity: k.severity, dueAt: k.dueAt, proposed: k.proposed, mitigations: k.mitigations });
      return k;
    },

    async list(c, f) {
      const scopes = readableScopes(c.grants, ABUSE_READERS);
      if (scopes.length === 0) return { cases: [] };
      const tenantWide = scopes.includes(undefined);
      return store.list(c.tenantId, {
        ...(f.queue !== undefined ? { queue: f.queue } : {}),
        ...(f.status !== undefined ? { status: f.status } : {}),
        ...(f.rule !== undefined ? { rule: f.rule } : {}),
        ...(f.subject !== undefined ? { subject: f.subject } : {}),
        ...(f.overdue ? { dueBefore: clock.now() } : {}),
        ...(f.after !== undefined ? { after: f.after } : {}),
        ...(tenantWide ? {} : { scopes: scopes as string[] }),
        limit: f.limit ?? 50,
      });
    },

    get: load,

    async claim(c, id) {
      const k = await loadToAct(c, id);
      if (k.status === 'closed') throw closed(k);
      const me = personOf(c);
      const r = await store.claim(c.tenantId, id, me, clock.now());
      if (!r) throw notFound(id);
      if ('conflict' in r) throw r.conflict.status === 'closed' ? closed(r.conflict) : heldBy(r.conflict);
      // Claiming one's own claim again changes nothing and is not audited twice.
      if (k.claimedBy !== me) await record('abuse.case.claimed', r.case, actorOf(c));
      return r.case;
    },

    async release(c, id) {
      const k = await loadToAct(c, id);
      if (k.status === 'closed') throw closed(k);
      const me = personOf(c);
      if (k.status !== 'claimed') throw new WardenError('abuse.not_claimed', `abuse case \`${id}\` is not claimed by anyone`);
      const force = k.claimedBy !== me;
      if (force && !holdsAt(c.grants, ['owner', 'admin'], k.scope)) throw heldBy(k);
      const r = await store.release(c.tenantId, id, me, clock.now(), force);
      if (!r) throw new WardenError('abuse.not_claimed', `abuse case \`${id}\` was released or decided meanwhile`);
      await record('abuse.case.released', r, actorOf(c), { heldBy: k.claimedBy ?? null, forced: force });
      return r;
    },

    async decide(c, id, d) {
      const k = await loadToAct(c, id);
      const me = personOf(c);
      if (k.status === 'closed') throw closed(k);
      if (k.status !== 'claimed' || k.claimedBy !== me) {
        throw new WardenError('abuse.not_claimed', k.claimedBy ? `abuse case \`${id}\` is claimed by \`${k.claimedBy}\`, not by you` : `claim abuse case \`${id}\` before deciding it`, {
          help: '`POST /api/v1/abuse/cases/:id/claim` (or `warden cases claim`)',
        });
      }
      const at = clock.now();
      let applied;
      let queue: string | undefined;
      // The mitigator runs before the decision is stored: a decision that lost a race (its claim
      // released by an admin meanwhile) has then applied or undone what the analyst saw, which the
      // audit event records; the other way round a stored decision could miss its mitigations.
      if (d.outcome === 'confirmed' && k.proposed.length > 0) {
        applied = await deps.mitigator().apply({ tenantId: k.tenantId, subject: k.subject, proposed: k.proposed, source: { kind: 'analyst', principal: me }, reason: d.note ?? `abuse case ${k.id} confirmed`, caseId: k.id });
      } else if (d.outcome === 'false_positive') {
        await deps.mitigator().undo(k, me);
      } else if (d.outcome === 'escalated') {
        queue = d.queue ?? (deps.queues.find((q) => q.name === k.queue)?.escalateTo ?? ESCALATED_QUEUE);
      }
      const done = await store.decide(c.tenantId, id, { outcome: d.outcome, by: me, at, ...(d.note ? { note: d.note } : {}), ...(queue ? { queue } : {}), ...(applied ? { applied } : {}) });
      if (!done) throw new WardenError('abuse.not_claimed', `abuse case \`${id}\` was released or decided meanwhile`);
      await record('abuse.case.decided', done, actorOf(c), { outcome: d.outcome, fromQueue: k.queue, ...(applied ? { applied } : {}), ...(d.note ? { note: d.note } : {}) });
      return done;
    },

    async note(c, id, text) {
      const k = await loadToAct(c, id);
      if (text.trim() === '') throw new WardenError('request.invalid', 'a note needs some text');
      const r = await store.addNote(c.tenantId, k.id, { by: personOf(c), at: clock.now(), text });
      if (!r) throw notFound(id);
      await record('abuse.case.noted', r, actorOf(c), { length: text.length });
      return r;
    },

    async ruleStats(c) {
      if (readableScopes(c.grants, ABUSE_READERS).length === 0) throw new WardenError('auth.forbidden', "a rule's precision needs `owner`, `admin`, `analyst` or `auditor`");
      return store.ruleStats(c.tenantId);
    },
  };
}
