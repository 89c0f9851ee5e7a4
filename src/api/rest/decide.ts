import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Checkpoint } from '../../checkpoint/index.js';
import { ActionSchema, DecisionSchema, WardenError, newAuditEvent, type Action, type AuditSink, type Clock } from '../../domain/index.js';
import { actorOf, holdsAt, type Credential, type Role } from '../../identity/index.js';
import { credentialOf } from '../auth.js';

/** Roles that may submit actions; the role must hold at the action's scope. */
const DECIDERS: readonly Role[] = ['owner', 'admin', 'agent', 'enforcer'];

/**
 * How far a non-enforcer's `context.time` may be from Warden's clock before it counts as asserting
 * another time: clocks of honest callers drift, but not by minutes.
 */
const TIME_SLACK_MS = 5_000;

/**
 * What a credential that is not an enforcer asserts beyond its own identity: another agent, another
 * principal or their roles, or another time. Each is a sentence for the refusal.
 */
export function foreignAssertions(action: Action, c: Credential, now: Date): string[] {
  const out: string[] = [];
  const a = action.agent;
  if (a !== undefined) {
    if (a.id !== c.agentId) out.push(c.agentId === undefined ? `agent \`${a.id}\` (this credential is not an agent's)` : `agent \`${a.id}\` (this credential is agent \`${c.agentId}\`)`);
    // Facts about the agent decide policies: they come from the registry, never from the agent itself.
    const facts = Object.keys(a).filter((k) => k !== 'id');
    if (facts.length > 0) out.push(`agent facts (${facts.map((k) => `\`${k}\``).join(', ')}); the registry holds them`);
  }
  const p = action.principal;
  if (p !== undefined) {
    if (p.id !== c.principal) out.push(c.principal === undefined ? `principal \`${p.id}\` (this credential acts for nobody)` : `principal \`${p.id}\` (this credential is \`${c.principal}\`)`);
    const facts = Object.keys(p).filter((k) => k !== 'id');
    if (facts.length > 0) out.push(`principal facts (${facts.map((k) => `\`${k}\``).join(', ')}); roles and attributes come from the identity, not the caller`);
  }
  const t = action.tool;
  if (t !== undefined) {
    const facts = Object.keys(t).filter((k) => k !== 'server' && k !== 'name');
    if (facts.length > 0) out.push(`tool facts (${facts.map((k) => `\`${k}\``).join(', ')}); the registry holds them`);
  }
  if (action.session !== undefined) out.push('a session (sessions decide what `session.history` holds; an enforcer names them)');
  const ctx = action.context;
  if (ctx?.claimedTime !== undefined) out.push('`context.claimedTime` (Warden sets it)');
  const time = ctx?.time;
  if (time !== undefined && Math.abs(Date.parse(time) - now.getTime()) > TIME_SLACK_MS) out.push(`time \`${time}\` (Warden's clock reads ${now.toISOString()})`);
  return out;
}

/** The action as a non-enforcer's own: its agent and principal filled in from the credential. */
function asOwn(action: Action, c: Credential): Action {
  return {
    ...action,
    ...(c.agentId !== undefined ? { agent: { ...action.agent, id: c.agentId } } : {}),
    // An agent token made for a person acts on their behalf: the decision (and an approval request) names them.
    ...(c.principal !== undefined ? { principal: { ...action.principal, id: c.principal } } : {}),
  };
}

/**
 * `POST /api/v1/decide`: an Action in, the Decision out, once its audit event is durable. The action
 * belongs to the credential's tenant. Only an `enforcer` asserts whose action it is and when; anyone
 * else decides as itself, and a body that claims otherwise is refused and audited.
 */
export function decideRoutes(app: FastifyInstance, deps: { checkpoint: Pick<Checkpoint, 'check'>; audit: Pick<AuditSink, 'append'>; clock: Clock }): void {
  const refuse = async (req: FastifyRequest, c: Credential, action: Action, claims: string[]) => {
    await deps.audit.append([
      newAuditEvent(
        {
          tenantId: c.tenantId,
          scope: action.scope,
          category: 'auth',
          type: 'auth.decide.refused',
          severity: 'high',
          outcome: 'denied',
          actor: actorOf(c, { ip: req.ip, userAgent: req.headers['user-agent'] }),
          action: { kind: action.kind },
          ...(action.tool ? { target: { kind: 'tool' as const, server: action.tool.server, name: action.tool.name } } : {}),
          details: { asserted: claims },
        },
        deps.clock.now(),
      ),
    ]);
    throw new WardenError('auth.assertion_refused', `this credential may not assert ${claims.join('; ')}`, {
      help: 'leave these out to decide as the credential itself, or call with an `enforcer` token (a gateway or SDK host trusted to assert them)',
    });
  };

  app.post<{ Body: Action }>(
    '/api/v1/decide',
    {
      schema: {
        body: ActionSchema,
        response: { 200: DecisionSchema },
      },
    },
    async (req) => {
      const c = credentialOf(req);
      let action = req.body;
      if (!holdsAt(c.grants, DECIDERS, action.scope)) {
        throw new WardenError('auth.forbidden', `this credential may not decide at scope \`${action.scope}\``, { help: `its grants: ${c.grants.map((g) => `${g.role} at ${g.scope ?? 'the whole tenant'}`).join(', ')}` });
      }
      const enforcer = holdsAt(c.grants, ['enforcer'], action.scope);
      if (!enforcer) {
        const claims = foreignAssertions(action, c, deps.clock.now());
        if (claims.length > 0) await refuse(req, c, action, claims);
        action = asOwn(action, c);
      }
      const ua = req.headers['user-agent'];
      // The caller's W3C trace context: the decision's span and audit event join its trace (docs/observability.md).
      const tp = req.headers.traceparent;
      const traceparent = typeof tp === 'string' && tp.length <= 256 ? tp : undefined;
      // The session travels beside the action, as the gateway's does: it is not part of what is decided on.
      const { session, ...decided } = action;
      const { decision } = await deps.checkpoint.check(decided, {
        ip: req.ip,
        ...(ua ? { userAgent: ua } : {}),
        tenantId: c.tenantId,
        trustedTime: enforcer,
        via: { id: actorOf(c).id, name: c.name, method: c.method },
        ...(session ? { sessionId: session.id } : {}),
        ...(traceparent ? { traceparent } : {}),
      });
      return decision;
    },
  );
}
