import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditReader } from '../../audit/index.js';
import { actionOfDecisionEvent, type Checkpoint } from '../../checkpoint/index.js';
import { FindingSchema, NO_NUL_PATTERN, WardenError, newAuditEvent, type Action, type AuditSink, type Clock, type Finding } from '../../domain/index.js';
import { actorOf, holdsAt } from '../../identity/index.js';
import { credentialOf } from '../auth.js';

/** The largest outcome report, bytes: a tool result beyond it is reported without its body (`omitted`). */
export const MAX_OUTCOME_BYTES = 256 * 1024;

const OutcomeBody = Type.Object(
  {
    auditEventId: Type.String({ pattern: '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$', description: 'the `auditEventId` of the decision that allowed the call (a UUID)' }),
    outcome: Type.Union([Type.Literal('completed'), Type.Literal('failed')], { description: '`completed`: the tool returned; `failed`: it threw' }),
    result: Type.Optional(Type.Unknown({ description: 'what the tool returned (JSON); inspected and digested as the gateway does with an upstream result' })),
    omitted: Type.Optional(Type.Union([Type.Literal('too_large'), Type.Literal('not_json')], { description: 'why `result` is absent although the tool returned something' })),
    isError: Type.Optional(Type.Boolean({ description: "the result reports its own failure (as an MCP tool result's `isError`)" })),
    error: Type.Optional(Type.String({ maxLength: 2048, pattern: NO_NUL_PATTERN, description: 'the failure, when `outcome` is `failed`' })),
    durationMs: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000, description: 'how long the tool ran' })),
  },
  { additionalProperties: false },
);
type OutcomeBody = Static<typeof OutcomeBody>;

const OutcomeAnswer = Type.Object({
  eventId: Type.String({ description: 'the id of the `tool.call.completed` or `tool.call.failed` event written' }),
  findings: Type.Array(FindingSchema, { description: 'what output inspection found in the result (a scope whose scan section says `on: [output]`)' }),
  result: Type.Optional(Type.Unknown({ description: 'present only when inspection masked something: the result to hand to the agent instead of the one reported' })),
});

/**
 * `POST /api/v1/decide/outcome`: an enforcement point outside the gateway (the SDK) reports how a
 * call it was allowed ended, so the audit log has the `tool.call.completed` / `tool.call.failed`
 * event the gateway writes for its own calls, correlated to the decision. The result goes through
 * the checkpoint's output inspection, the gateway's own, and comes back masked when a scan section
 * redacts. Only the credential that asked for the decision, or an enforcer at its scope, may report
 * it; a decision of another tenant is not found.
 */
export function decideOutcomeRoutes(app: FastifyInstance, deps: { checkpoint: Pick<Checkpoint, 'inspect' | 'resultPayload'>; audit: AuditReader; events: Pick<AuditSink, 'append'>; clock: Clock }): void {
  app.post<{ Body: OutcomeBody }>(
    '/api/v1/decide/outcome',
    {
      bodyLimit: MAX_OUTCOME_BYTES,
      schema: {
        summary: "report how an allowed call ended (the SDK's tool result): audited as `tool.call.completed` or `tool.call.failed`, the result inspected as the gateway inspects upstream results",
        body: OutcomeBody,
        response: { 200: OutcomeAnswer },
      },
    },
    async (req) => {
      const c = credentialOf(req);
      const body = req.body;
      const notFound = () => new WardenError('decision.not_found', `no decision \`${body.auditEventId}\` in this tenant`, { help: 'report the `auditEventId` of the decision that allowed the call' });
      const { events } = await deps.audit.list({ tenant: c.tenantId, id: body.auditEventId, category: 'decision', limit: 1 });
      const decided = events[0];
      if (decided === undefined || decided.tenantId !== c.tenantId) throw notFound();
      const submittedBy = (decided.details as { submittedBy?: { id?: string } } | undefined)?.submittedBy?.id;
      const self = actorOf(c);
      // INVARIANT: nobody learns of another credential's decision: reporting it looks like asking for one that does not exist.
      if (submittedBy !== self.id && !holdsAt(c.grants, ['enforcer'], decided.scope)) throw notFound();
      const replayed = actionOfDecisionEvent(decided);
      if (decided.decision?.effect !== 'allow' || 'notReplayable' in replayed || replayed.action.kind !== 'tool.call') {
        throw new WardenError('decision.not_allowed', `decision \`${body.auditEventId}\` did not allow a tool call, so it has no outcome to report`, {
          help: 'only a call a decision allowed runs; report the decision of that call',
        });
      }
      const action: Action = replayed.action;
      const caller = { tenantId: c.tenantId, via: { id: self.id, name: c.name, method: c.method }, ip: req.ip };
      let findings: Finding[] = [];
      let shown: unknown;
      if (body.result !== undefined && body.outcome === 'completed') {
        const inspected = await deps.checkpoint.inspect(action, body.result, caller);
        findings = inspected.findings;
        if (inspected.value !== body.result) shown = inspected.value;
      }
      const payload = body.result !== undefined ? await deps.checkpoint.resultPayload(shown ?? body.result) : undefined;
      const event = newAuditEvent(
        {
          tenantId: c.tenantId,
          scope: decided.scope,
          category: 'tool_call',
          type: body.outcome === 'completed' ? 'tool.call.completed' : 'tool.call.failed',
          severity: body.outcome === 'completed' && !body.isError ? 'info' : 'low',
          outcome: body.outcome === 'failed' ? 'error' : body.isError ? 'failure' : 'success',
          actor: { ...self, ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}), ...(req.ip ? { ip: req.ip } : {}) },
          ...(decided.agent ? { agent: { id: decided.agent.id } } : {}),
          ...(decided.onBehalfOf ? { onBehalfOf: decided.onBehalfOf } : {}),
          ...(decided.target ? { target: decided.target } : {}),
          action: { kind: 'tool.call' },
          correlationId: decided.id,
          ...(body.durationMs !== undefined ? { latencyMs: Math.round(body.durationMs * 1000) / 1000 } : {}),
          details: {
            reported: true,
            ...(body.isError !== undefined ? { isError: body.isError } : {}),
            ...(body.error !== undefined ? { error: body.error } : {}),
            ...(body.omitted !== undefined ? { omitted: body.omitted } : {}),
          },
        },
        deps.clock.now(),
      );
      await deps.events.append([payload !== undefined ? { ...event, payload } : event]);
      return { eventId: event.id, findings, ...(shown !== undefined ? { result: shown } : {}) };
    },
  );
}
