import { assertMayLabel, labelListFilter, liftMitigationAs, mitigationListFilter } from '../abuse/index.js';
import { compileValidator, formatIssues, WardenError, type ProposedMitigation } from '../domain/index.js';
import { actorOf, personOf, type Credential, type GraphqlRead } from '../identity/index.js';
import { passGate } from '../api/auth.js';
import { AuditEventsQuery, readAuditEvents } from '../api/reads/audit-events.js';
import type { AnalystServices } from './analyst-mcp.js';
import type { Core } from './core.js';

/** How long `mitigate` denies or throttles when the analyst names no time. */
export const DEFAULT_MITIGATION_MS = 3_600_000;

/** The REST routes the analyst tools answer like; each passes that route's gate (ROUTE_ACCESS) first. */
type Route = GraphqlRead | `${'GET' | 'POST' | 'DELETE'} /api/v1/abuse/${string}`;

const checkAuditQuery = compileValidator(AuditEventsQuery);

/**
 * Refuses what REST's input guard refuses before a filter or a name reaches the store: NUL
 * (U+0000), which PostgreSQL text cannot hold, and unpaired surrogates.
 */
function checkText(args: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(args)) {
    if (typeof v !== 'string') continue;
    const why = v.includes('\u0000') ? 'must not contain a NUL character (U+0000)' : !v.isWellFormed() ? 'contains an unpaired UTF-16 surrogate' : undefined;
    if (why) throw new WardenError('request.invalid', `\`/${name}\` ${why}`);
  }
}

/**
 * The analyst tools' services over the core, with one person's credential bound in: each tool
 * passes the gate of the REST route it answers like (refusals audited as `auth.route.denied`), then
 * calls what that route calls with the same credential, so an analyst's agent may do exactly what
 * the analyst may do through the API, with the same scoping and the same refusals.
 */
export function analystServices(core: Core, credential: Credential): AnalystServices {
  const c = credential;
  const actor = actorOf(c);
  const gate = async (route: Route, args: Record<string, unknown> = {}) => {
    const [method, url] = route.split(' ') as [string, string];
    await passGate({ audit: core.audit, clock: core.clock }, c, method, url, {});
    checkText(args);
  };
  const lifting = { store: core.mitigations, audit: core.audit, clock: core.clock };

  return {
    async auditSearch(q) {
      await gate('GET /api/v1/audit/events', q);
      const checked = checkAuditQuery(q);
      if (!checked.ok) throw new WardenError('request.invalid', `the audit query is invalid: ${formatIssues(checked.issues)}`);
      return readAuditEvents(core.auditLog, c, checked.value);
    },
    async casesList(filter) {
      await gate('GET /api/v1/abuse/cases', filter);
      return core.cases.list(c, { ...filter, limit: 50 });
    },
    async caseShow(id) {
      await gate('GET /api/v1/abuse/cases/:id', { id });
      return core.cases.get(c, id);
    },
    async caseClaim(id) {
      await gate('POST /api/v1/abuse/cases/:id/claim', { id });
      return core.cases.claim(c, id);
    },
    async caseRelease(id) {
      await gate('POST /api/v1/abuse/cases/:id/release', { id });
      return core.cases.release(c, id);
    },
    async caseNote(id, text) {
      await gate('POST /api/v1/abuse/cases/:id/notes', { id, text });
      return core.cases.note(c, id, text);
    },
    async caseDecide(id, d) {
      await gate('POST /api/v1/abuse/cases/:id/decide', { id, ...d });
      return core.cases.decide(c, id, d);
    },
    async labelsList(filter) {
      await gate('GET /api/v1/abuse/labels', filter);
      return { labels: await core.labels.list(c.tenantId, labelListFilter(filter)) };
    },
    async labelAdd(input) {
      await gate('POST /api/v1/abuse/labels', { entity: input.entity.id, name: input.name, reason: input.reason });
      assertMayLabel(c, input.entity);
      return core.labels.add(c.tenantId, input, { kind: 'analyst', principal: personOf(c) }, actor);
    },
    async labelRemove(entity, name) {
      await gate('DELETE /api/v1/abuse/labels/:kind/:entity/:name', { entity: entity.id, name });
      assertMayLabel(c, entity);
      await core.labels.remove(c.tenantId, entity, name, actor);
      return { removed: { entity, name } };
    },
    async mitigationsList(filter) {
      await gate('GET /api/v1/abuse/mitigations', filter);
      return { mitigations: await core.mitigations.list(c.tenantId, mitigationListFilter({ ...filter, live: true }), core.clock.now()) };
    },
    async mitigate(input) {
      // No REST route applies a mitigation by hand; it takes what lifting one takes (the role to label the entity).
      await gate('POST /api/v1/abuse/mitigations/:id/lift', { entity: input.entity.id, reason: input.reason });
      assertMayLabel(c, input.entity);
      const proposed = proposalOf(input);
      const applied = await core.abuse.verdicts.apply({ tenantId: c.tenantId, subject: input.entity, proposed: [proposed], source: { kind: 'analyst', principal: personOf(c) }, reason: input.reason });
      return { subject: input.entity, applied: proposed, ...applied };
    },
    async mitigationLift(id) {
      await gate('POST /api/v1/abuse/mitigations/:id/lift', { id });
      return liftMitigationAs(lifting, c, id, actor);
    },
    async ruleStats() {
      await gate('GET /api/v1/abuse/rules/stats');
      return { rules: await core.cases.ruleStats(c) };
    },
  };
}

/** The one mitigation `mitigate` applies: deny and throttle for `forMs` (1 h unless given); suspend and kill act on agents only. */
function proposalOf(input: Parameters<AnalystServices['mitigate']>[0]): ProposedMitigation {
  const forMs = input.forMs ?? DEFAULT_MITIGATION_MS;
  switch (input.action) {
    case 'deny':
      return { kind: 'deny', forMs };
    case 'throttle':
      if (input.limit === undefined || input.windowMs === undefined) throw new WardenError('request.invalid', 'a throttle needs `limit` (calls) and `window` (e.g. `1m`)');
      return { kind: 'throttle', limit: input.limit, windowMs: input.windowMs, forMs };
    case 'suspend':
    case 'kill':
      if (input.entity.kind !== 'agent') throw new WardenError('request.invalid', `\`${input.action}\` acts on an agent, not a ${input.entity.kind}`);
      return { kind: input.action };
  }
}
