import { newAuditEvent, uuidv7, type AuditEvent, type AuditSink, type Case, type Clock, type EntityRef, type Mitigation, type ProposedMitigation } from '../domain/index.js';
import type { AgentSuspender, CaseOpener, LabelStore, MitigationStore, Mitigator } from './ports.js';
import type { CompiledVerdict } from './rule-compile.js';
import type { RuleHit } from './rule-run.js';

/** How long a kill is kept for gateways to sweep (they look every quarter second). */
export const KILL_KEPT_MS = 60_000;

/** What applying a rule's verdicts did. */
export interface VerdictOutcome {
  /** A verdict refuses the action in hand (deny, suspend or kill): a synchronous rule's action is denied. */
  refuses: boolean;
  /** Label names added, per entity kind (a synchronous rule's labels join the decision's). */
  labelsAdded: { entity: EntityRef; name: string }[];
  /** One line per verdict, for the audit event and the agent's message. */
  done: string[];
}

export interface VerdictDeps {
  labels: LabelStore;
  mitigations: MitigationStore;
  /** The case service (bound late: it needs this module as its mitigator). */
  cases: () => CaseOpener;
  agents: AgentSuspender;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  /** Closes an agent's live sessions in this process at once (the gateway registers it); other processes sweep. */
  onKill: (kill: Mitigation) => void;
  /** Forgets cached labels and mitigations of entities just changed, so the next decision reads them. */
  forget: (tenantId: string, entities: readonly EntityRef[]) => void;
}

/** Applies verdicts: a rule's (enforce), a shadow rule's record, and an analyst's confirmation (the Mitigator). */
export interface Verdicts extends Mitigator {
  applyHit(hit: RuleHit, ruleSetVersion: string): Promise<VerdictOutcome>;
  /** Records what a shadow rule would have done; changes nothing. */
  shadow(hit: RuleHit, ruleSetVersion: string): Promise<void>;
}

function describe(v: CompiledVerdict | ProposedMitigation, entity?: EntityRef): string {
  const on = entity ? ` ${entity.kind} \`${entity.id}\`` : '';
  switch (v.kind) {
    case 'label':
      return `label${on} \`${v.name}\` (${v.connotation})${v.forMs ? ` for ${v.forMs / 1000} s` : ''}`;
    case 'unlabel':
      return `remove label \`${v.name}\` from${on}`;
    case 'throttle':
      return `throttle${on} to ${v.limit} per ${v.windowMs / 1000} s for ${v.forMs / 1000} s`;
    case 'deny':
      return `deny${on} for ${v.forMs / 1000} s`;
    case 'suspend':
      return `suspend the agent${on}`;
    case 'kill':
      return `kill the live sessions of${on}`;
    case 'review':
      return `open a case on${on}`;
  }
}

/** The verdicts' one implementation. */
export function createVerdicts(deps: VerdictDeps): Verdicts {
  const now = () => deps.clock.now();
  const RULE_ACTOR = (rule: string) => ({ type: 'system' as const, id: `abuse-rule:${rule}`, name: `abuse rule ${rule}` });

  async function mitigate(tenantId: string, entity: EntityRef, m: Pick<Mitigation, 'kind' | 'reason' | 'source'> & { forMs: number; limit?: number; windowMs?: number; caseId?: string }): Promise<Mitigation> {
    const at = now();
    const id = uuidv7(at.getTime());
    const made: Mitigation = {
      id,
      tenantId,
      entity,
      kind: m.kind,
      reason: m.reason,
      source: m.source,
      ...(m.caseId ? { caseId: m.caseId } : {}),
      ...(m.limit !== undefined ? { limit: m.limit, windowMs: m.windowMs } : {}),
      createdAt: at.toISOString(),
      until: new Date(at.getTime() + m.forMs).toISOString(),
    };
    await deps.mitigations.add(made);
    return made;
  }

  /** Applies one verdict or proposal to one entity; returns the mitigation id it made, if any. */
  async function applyOne(tenantId: string, entity: EntityRef, agentId: string | undefined, v: CompiledVerdict | ProposedMitigation, reason: string, source: Mitigation['source'], by: { type: 'system' | 'user'; id: string; name?: string }, out: { mitigations: string[]; suspended: boolean; labelsAdded: string[] }): Promise<void> {
    switch (v.kind) {
      case 'label': {
        const at = now();
        await deps.labels.add({ tenantId, entity, name: v.name, connotation: v.connotation, reason, source, createdAt: at.toISOString(), ...(v.forMs ? { expiresAt: new Date(at.getTime() + v.forMs).toISOString() } : {}) });
        out.labelsAdded.push(v.name);
        return;
      }
      case 'unlabel':
        await deps.labels.remove(tenantId, entity, v.name, now());
        return;
      case 'throttle':
        out.mitigations.push((await mitigate(tenantId, entity, { kind: 'throttle', reason, source, forMs: v.forMs, limit: v.limit, windowMs: v.windowMs })).id);
        return;
      case 'deny':
        out.mitigations.push((await mitigate(tenantId, entity, { kind: 'deny', reason, source, forMs: v.forMs })).id);
        return;
      case 'suspend':
        if (agentId === undefined) return;
        await deps.agents.setStatus(tenantId, agentId, 'suspended', by);
        out.suspended = true;
        return;
      case 'kill': {
        if (agentId === undefined) return;
        const kill = await mitigate(tenantId, { kind: 'agent', id: agentId }, { kind: 'kill', reason, source, forMs: KILL_KEPT_MS });
        out.mitigations.push(kill.id);
        deps.onKill(kill);
        return;
      }
      case 'review':
        return;
    }
  }

  function verdictEvent(type: 'abuse.verdict.applied' | 'abuse.verdict.shadowed', hit: RuleHit, version: string, done: string[], caseId?: string): AuditEvent {
    const o = hit.observed;
    const r = hit.rule;
    return newAuditEvent(
      {
        tenantId: o.tenantId,
        scope: o.scope,
        category: 'detection',
        type,
        severity: r.severity,
        outcome: 'success',
        actor: RULE_ACTOR(r.name),
        ...(o.entities.agent !== undefined ? { agent: { id: o.entities.agent } } : {}),
        ...(o.entities.principal !== undefined ? { onBehalfOf: { id: o.entities.principal } } : {}),
        ...(o.tool ? { target: { kind: 'tool' as const, server: o.tool.server, name: o.tool.name } } : {}),
        ...(o.kind ? { action: { kind: o.kind } } : {}),
        ...(o.eventId ? { correlationId: o.eventId } : {}),
        details: {
          rule: r.name,
          mode: r.mode,
          synchronous: r.synchronous,
          category: r.category,
          reason: r.reason,
          verdicts: done,
          // The verdict kinds alone (label, throttle, kill…): what metrics count without parsing `verdicts`.
          kinds: [...new Set(r.verdicts.map((v) => v.kind))],
          features: hit.features,
          entities: o.entities,
          ruleSet: version,
          ...(caseId ? { caseId } : {}),
        },
      },
      now(),
    );
  }

  return {
    async applyHit(hit, version) {
      const o = hit.observed;
      const r = hit.rule;
      const source = { kind: 'rule' as const, rule: r.name };
      const out = { mitigations: [] as string[], suspended: false, labelsAdded: [] as string[] };
      const labelled: { entity: EntityRef; name: string }[] = [];
      const done: string[] = [];
      const touched: EntityRef[] = [];
      let refuses = false;
      let review: Extract<CompiledVerdict, { kind: 'review' }> | undefined;
      for (const v of r.verdicts) {
        if (v.kind === 'review') {
          review = v;
          continue;
        }
        const kind = v.kind === 'suspend' || v.kind === 'kill' ? 'agent' : v.entity;
        const id = o.entities[kind];
        if (id === undefined) {
          done.push(`${describe(v)}: skipped, the event names no ${kind}`);
          continue;
        }
        const entity = { kind, id };
        const before = out.labelsAdded.length;
        await applyOne(o.tenantId, entity, o.entities.agent, v, r.reason, source, RULE_ACTOR(r.name), out);
        if (out.labelsAdded.length > before) labelled.push({ entity, name: out.labelsAdded[out.labelsAdded.length - 1]! });
        if (v.kind === 'deny' || v.kind === 'suspend' || v.kind === 'kill') refuses = true;
        touched.push(entity);
        done.push(describe(v, entity));
      }
      let caseId: string | undefined;
      if (review) {
        const id = o.entities[review.entity];
        if (id === undefined) done.push(`${describe(review)}: skipped, the event names no ${review.entity}`);
        else {
          const subject = { kind: review.entity, id };
          const opened: Case = await deps.cases().open({
            tenantId: o.tenantId,
            category: r.category,
            severity: r.severity,
            scope: o.scope,
            subject,
            summary: r.reason,
            source,
            evidence: { eventIds: o.eventId ? [o.eventId] : [], findings: o.findings.slice(0, 100).map((f) => ({ category: f.category as Case['evidence']['findings'][number]['category'], type: f.type, score: f.score })), labels: labelled.map((l) => l.name), features: hit.features },
            mitigations: out.mitigations,
            proposed: [...review.propose],
            suspended: out.suspended,
            labelsAdded: out.labelsAdded,
          });
          caseId = opened.id;
          done.push(`${describe(review, subject)} (\`${opened.id}\` in queue \`${opened.queue}\`)`);
        }
      }
      if (touched.length > 0) deps.forget(o.tenantId, touched);
      await deps.audit.append([verdictEvent('abuse.verdict.applied', hit, version, done, caseId)]);
      return { refuses, labelsAdded: labelled, done };
    },

    async shadow(hit, version) {
      const o = hit.observed;
      const done = hit.rule.verdicts.map((v) => {
        const kind = v.kind === 'suspend' || v.kind === 'kill' ? 'agent' : v.entity;
        const id = o.entities[kind];
        return `would ${describe(v, id !== undefined ? { kind, id } : undefined)}`;
      });
      await deps.audit.append([verdictEvent('abuse.verdict.shadowed', hit, version, done)]);
    },

    async apply(input) {
      const out = { mitigations: [] as string[], suspended: false, labelsAdded: [] as string[] };
      const agentId = input.subject.kind === 'agent' ? input.subject.id : undefined;
      const by = input.source.kind === 'analyst' ? { type: 'user' as const, id: input.source.principal } : RULE_ACTOR(input.source.rule);
      for (const p of input.proposed) await applyOne(input.tenantId, input.subject, agentId, p, input.reason, input.source, by, out);
      deps.forget(input.tenantId, [input.subject]);
      if (input.proposed.length > 0) {
        await deps.audit.append([
          newAuditEvent(
            {
              tenantId: input.tenantId,
              scope: input.subject.kind === 'scope' ? input.subject.id : input.tenantId,
              category: 'admin',
              type: 'abuse.mitigation.applied',
              severity: 'medium',
              outcome: 'success',
              actor: by,
              ...(agentId !== undefined ? { agent: { id: agentId } } : {}),
              details: { subject: input.subject, applied: input.proposed.map((p) => describe(p, input.subject)), mitigations: out.mitigations, suspended: out.suspended, labelsAdded: out.labelsAdded, reason: input.reason, ...(input.caseId ? { caseId: input.caseId } : {}) },
            },
            now(),
          ),
        ]);
      }
      return out;
    },

    async undo(c: Case, by: string) {
      const at = now();
      for (const id of c.mitigations) await deps.mitigations.lift(c.tenantId, id, by, at);
      if (c.suspended && c.subject.kind === 'agent') await deps.agents.setStatus(c.tenantId, c.subject.id, 'active', { type: 'user', id: by });
      for (const name of c.labelsAdded ?? []) await deps.labels.remove(c.tenantId, c.subject, name, at);
      deps.forget(c.tenantId, [c.subject]);
    },
  };
}
