import type { Checkpoint, CheckpointResult } from '../checkpoint/index.js';
import { isWardenError, type Action, type Decision, type WardenError } from '../domain/index.js';
import { DEFAULT_AUDIT_MODE, type AuditMode } from './audit-mode.js';
import type { ConfirmAnswer } from './gateway-api.js';
import { messageOf } from './error-message.js';
import { refusal, type Outcome, type Refusal } from './outcome.js';
import type { ApprovalWaiter, GatewayLogger, GovernedKind, InspectedResult, ResultInspector, SessionIdentity, UpstreamTracing } from './ports.js';
import type { RateLimits } from './rate-limit.js';
import type { EventTarget, RequestEnd, ResultEvents } from './result-events.js';
import { DEFAULT_APPROVAL_WAIT_MS, pendingMessage, policyMessage } from './results.js';
import { callerOf } from './session-context.js';

/** One tool call, resource read or prompt get, as the governed flow runs it. */
export interface GovernedRequest<R extends InspectedResult> {
  identity: SessionIdentity;
  /** What the checkpoint decides on. */
  action: Action & { kind: GovernedKind };
  /** The audit target, from the action as the checkpoint resolved it (a tool's definition hash). */
  target(resolved: Action): EventTarget;
  /** The name rate limits count: the qualified tool or prompt name, the upstream's own resource URI. */
  limitName: string;
  /** The upstream server's name, for messages. */
  server: string;
  /** How messages name the request: `what` in a policy refusal (`call`), `failure` after "failed" (`during the call to \`echo\``), `withheld` after "withheld" (`the result of \`echo\``). */
  describe: { what: 'call' | 'read' | 'prompt'; failure: string; withheld: string };
  /**
   * Checks what will be forwarded (a tool call's input schema) against `decided`, the action as the
   * checkpoint decided it; the refusal message when it fails.
   */
  validate?: ((decided: Action) => string | undefined) | undefined;
  /**
   * Sends the request to the upstream, built from `decided` only: its arguments are the ones the
   * checkpoint decided on, masked where a scan section redacts, and audited by digest.
   */
  forward(decided: Action, traceparent: string | undefined): Promise<R>;
  /** The agent's W3C trace context (the request's `_meta.traceparent`, or its HTTP header). */
  traceparent?: string | undefined;
  /** Rewrites the result into what the agent sees (namespaced URIs); applied before the result event records it. */
  expose?: ((result: R) => R) | undefined;
  /** Whether a result reports its own failure (a tool result's `isError`); recorded for tool calls only. */
  isError?: ((result: R) => boolean) | undefined;
  /** The agent's cancellation: a held request stops waiting when it fires. */
  signal?: AbortSignal | undefined;
  /** Asks the agent's user to confirm (MCP elicitation), when the client can; for rules with `confirm: principal`. */
  confirm?: ((message: string) => Promise<ConfirmAnswer>) | undefined;
  /** Progress notifications to the agent (when it sent a progress token): sent while a request is held for approval. */
  progress?: ((p: { progress: number; total?: number; message?: string }) => void) | undefined;
}

/** Runs governed requests; never throws for a refusal (an audit write that failed included), only for another failure of Warden itself. */
export type Govern = <R extends InspectedResult>(req: GovernedRequest<R>) => Promise<Outcome<R>>;

/**
 * The one governed flow: decide through the checkpoint → rate limit → validate → forward → inspect
 * → write the result event. Every refusal after the decision carries the decision and its audit
 * event id.
 *
 * The audit mode says when the decision event must be durable. `before-forward`: before anything
 * is forwarded (the checkpoint awaits the commit). `before-respond`: the commit overlaps rate
 * limiting, validation and the upstream call, and is awaited before anything is inspected, written
 * or answered. In both modes:
 * - nothing reaches the agent (result, refusal, upstream error) before its decision is durable;
 * - a deny is never forwarded;
 * - a result event is written only after its decision event committed, so it never points to a
 *   decision that is not in the log; a forwarded request whose decision failed leaves
 *   `*.audit_failed` instead, pointing to no decision;
 * - a decision that cannot be committed answers `audit_failed` (code `audit.write_failed` or
 *   `audit.backpressure`), never the result.
 *
 * INVARIANT: validation and the upstream see the checkpoint's `action`, never `req.action`: what is
 * forwarded is exactly what was decided on and audited (masked arguments included).
 */
export function createGovern(deps: {
  checkpoint: Pick<Checkpoint, 'check'>;
  limits: RateLimits;
  events: ResultEvents;
  inspector?: ResultInspector | undefined;
  /** @default DEFAULT_AUDIT_MODE */
  auditMode?: AuditMode | undefined;
  logger?: GatewayLogger | undefined;
  /** Where a request held for approval waits; without it a require_approval decision is refused at once. */
  approvals?: ApprovalWaiter | undefined;
  /** How long a request is held waiting for its approval before the agent is told to retry. @default DEFAULT_APPROVAL_WAIT_MS */
  approvalWaitMs?: number | undefined;
  /** Spans of forwarded requests. */
  tracing?: UpstreamTracing | undefined;
}): Govern {
  const deferred = (deps.auditMode ?? DEFAULT_AUDIT_MODE) === 'before-respond';
  const budgetMs = deps.approvalWaitMs ?? DEFAULT_APPROVAL_WAIT_MS;
  return govern;

  async function govern<R extends InspectedResult>(req: GovernedRequest<R>, released = false): Promise<Outcome<R>> {
    const startedAt = performance.now();
    let checked: CheckpointResult;
    try {
      const caller = callerOf(req.identity);
      checked = await deps.checkpoint.check(req.action, req.traceparent ? { ...caller, traceparent: req.traceparent } : caller, deferred ? { durability: 'deferred' } : undefined);
    } catch (err) {
      // before-forward: the commit failed inside the checkpoint, so nothing was forwarded.
      if (!isAuditFailure(err)) throw err;
      deps.logger?.error({ code: err.code, err: err.message, agent: req.identity.agentId, kind: req.action.kind, server: req.server }, 'a decision could not be recorded; nothing was forwarded');
      return auditFailed(err, `Warden could not record its decision on this ${req.describe.what} in the audit log, so nothing was forwarded: ${err.message}`);
    }
    if (!checked.durable) return decided(req, checked, startedAt, released);
    const durable = checked.durable;
    return decided(req, checked, startedAt, released, async (upstreamMs) => {
      try {
        await durable;
        return undefined;
      } catch (err) {
        return unrecorded(req, checked, err, startedAt, upstreamMs);
      }
    }).catch(async (err: unknown) => {
      // A failure of Warden's own past the decision: still nothing reaches the agent before the commit settles.
      await durable.catch(() => {});
      throw err;
    });
  }

  /**
   * The flow past the decision. `recorded` awaits the decision's commit (before-respond) and
   * answers the refusal to give instead when it failed; it is called once, before any answer or
   * event, with the upstream's time when the request was forwarded.
   */
  async function decided<R extends InspectedResult>(
    req: GovernedRequest<R>,
    { decision, action }: CheckpointResult,
    startedAt: number,
    released: boolean,
    recorded: (upstreamMs?: number) => Promise<Refusal | undefined> = async () => undefined,
  ): Promise<Outcome<R>> {
    const kind = req.action.kind;
    if (decision.effect !== 'allow') {
      const lost = await recorded();
      if (lost) return lost;
      if (decision.effect === 'require_approval' && decision.approvalRequest && deps.approvals) return held(req, decision, action, released);
      return refusal('policy', policyMessage(decision, req.describe.what), decision);
    }

    const target = req.target(action);
    const end = (e: Omit<RequestEnd, 'startedAt'>) => deps.events.write(req.identity, target, kind, decision, { ...e, startedAt });
    const limited = await deps.limits.check(req.identity.agentId, kind, req.limitName);
    if (limited) {
      const lost = await recorded();
      if (lost) return lost;
      end(limited.refusal === 'rate_limited' ? { outcome: 'failure', type: `${kind}.rate_limited`, refusal: 'rate_limited' } : { outcome: 'error', type: `${kind}.rate_limiter_unavailable`, refusal: 'rate_limiter_unavailable' });
      return { ...refusal(limited.refusal, limited.message, decision), ...(limited.code ? { code: limited.code } : {}) };
    }
    const invalid = req.validate?.(action);
    if (invalid) {
      const lost = await recorded();
      if (lost) return lost;
      end({ outcome: 'failure', type: `${kind}.invalid_arguments`, refusal: 'invalid_arguments' });
      return refusal('invalid_arguments', invalid, decision);
    }

    const upstreamStarted = performance.now();
    const span = deps.tracing?.begin({ server: req.server, kind, name: req.limitName, traceparent: req.traceparent });
    let result: R;
    try {
      result = await req.forward(action, span ? span.traceparent : req.traceparent);
    } catch (err) {
      span?.end('error', err);
      const upstreamMs = performance.now() - upstreamStarted;
      const lost = await recorded(upstreamMs);
      if (lost) return lost;
      end({ outcome: 'error', type: `${kind}.failed`, upstreamMs, refusal: 'upstream_error' });
      // The SDK prefixes its errors with `MCP error <code>: `; the code travels on its own.
      const why = messageOf(err).replace(/^(MCP error -?\d+: )+/, '');
      return refusal('upstream_error', `the upstream server \`${req.server}\` failed ${req.describe.failure}: ${why}`, decision, codeOf(err));
    }
    const upstreamMs = performance.now() - upstreamStarted;
    span?.end(req.isError?.(result) ? 'tool_error' : 'ok');
    // Before inspection: its detection events must not outlive a decision that was never recorded.
    const lost = await recorded(upstreamMs);
    if (lost) return lost;
    if (deps.inspector) {
      const verdict = await deps.inspector.inspect(action, result, callerOf(req.identity));
      if (verdict.action === 'block') {
        end({ outcome: 'denied', type: `${kind}.output_blocked`, upstreamMs, refusal: 'output_blocked' });
        return refusal('output_blocked', `Warden withheld ${req.describe.withheld}: ${verdict.message}`, decision);
      }
      // INVARIANT: a replacement keeps the shape it was given (ResultInspector's contract).
      if (verdict.action === 'replace') result = verdict.result as R;
    }
    if (req.expose) result = req.expose(result);
    const isError = req.isError?.(result);
    end({ outcome: isError ? 'failure' : 'success', type: `${kind}.completed`, upstreamMs, isError, result });
    return { ok: true, result };
  }

  /**
   * A request whose decision opened (or waits on) an approval request: held up to the wait budget,
   * with progress notifications. Approved in time: decided again, which finds the approval of this
   * exact digest and uses it, so what is forwarded is what was approved, and the release is a
   * decision event of its own. Otherwise the agent is told who must answer and that the same call,
   * retried after approval, will pass. A second hold after a release (someone else used a `once`
   * approval meanwhile) is not waited on again.
   */
  async function held<R extends InspectedResult>(req: GovernedRequest<R>, decision: Decision, action: Action, released: boolean): Promise<Outcome<R>> {
    const ref = decision.approvalRequest!;
    const waiter = deps.approvals!;
    if (released) return refusal('approval_pending', pendingMessage(decision, req.describe.what), decision);
    let r: Awaited<ReturnType<ApprovalWaiter['wait']>>;
    try {
      const principal = req.identity.principal?.id;
      if (ref.confirm && req.confirm && principal !== undefined) {
        // The person the agent acts for sees exactly what the digest covers, and answers for themselves.
        // Only an answer counts: a dismissed, failed or timed-out prompt leaves the request to the approvers and its timeout.
        const answer = await req.confirm(confirmMessage(req, action, ref.digest)).catch((): ConfirmAnswer => 'unanswered');
        if (answer !== 'unanswered') {
          const after = await waiter.confirm(req.identity.tenantId ?? 'default', ref.id, principal, answer === 'accept');
          if (after.status === 'approved') return govern(req, true);
          if (after.status === 'denied') return refusal('approval_denied', `Warden denied this ${req.describe.what}: \`${principal}\` declined to confirm it (approval request \`${ref.id}\`).`, decision);
        }
      }
      r = await waiter.wait(req.identity.tenantId ?? 'default', ref.id, {
        budgetMs,
        signal: req.signal,
        onTick: (waited) => req.progress?.({ progress: Math.round(waited / 1000), total: Math.round(budgetMs / 1000), message: `waiting for approval request ${ref.id}` }),
      });
    } catch (err) {
      // The request ran out or closed meanwhile: say so. Anything else is Warden's own failure: logged, not shown to the agent.
      if (isWardenError(err) && (err.code === 'approval.expired' || err.code === 'approval.closed')) return refusal('approval_denied', `Warden denied this ${req.describe.what}: ${err.message}.`, decision);
      deps.logger?.error({ err: messageOf(err), approval: ref.id }, 'an approval request could not be read; the held request is refused');
      return refusal('approval_denied', `Warden could not read approval request \`${ref.id}\`, so this ${req.describe.what} was not forwarded; try again later.`, decision);
    }
    if (r.status === 'approved') return govern(req, true);
    if (r.status === 'pending') return refusal('approval_pending', pendingMessage(decision, req.describe.what), decision);
    const no = r.votes.find((v) => v.vote === 'deny');
    const why =
      r.status === 'denied'
        ? `it was denied${no ? ` by \`${no.principal}\`${no.comment ? `: ${no.comment}` : ''}` : ''}`
        : r.status === 'expired'
          ? `it expired at ${r.expiresAt} without the approvals it needs`
          : 'it was withdrawn';
    return refusal('approval_denied', `Warden denied this ${req.describe.what}: approval request \`${r.id}\` ${why}.`, decision);
  }

  /** The confirmation prompt: who asks, the call, and its arguments exactly as the digest covers them. */
  function confirmMessage<R extends InspectedResult>(req: GovernedRequest<R>, action: Action, digest: string): string {
    const target = action.tool ? `\`${action.tool.name}\` on \`${req.server}\`` : action.resource ? `\`${action.resource.uri}\`` : `a ${req.describe.what}`;
    const args = action.args !== undefined ? `\n\nArguments:\n${JSON.stringify(action.args, null, 2)}` : '';
    return `Agent \`${req.identity.agentId}\` asks, on your behalf, to ${req.describe.what === 'read' ? 'read' : 'call'} ${target} in \`${action.scope}\`.${args}\n\n(approval digest ${digest}) Allow exactly this?`;
  }

  /**
   * A deferred commit that failed: the refusal the agent gets instead of what it asked for. When the
   * request was forwarded (`upstreamMs` set), the upstream may have acted on it: that is logged as
   * an error and recorded, as far as the store still takes writes, as `*.audit_failed`.
   */
  function unrecorded<R extends InspectedResult>(req: GovernedRequest<R>, { decision, action }: CheckpointResult, err: unknown, startedAt: number, upstreamMs: number | undefined): Refusal {
    const kind = req.action.kind;
    const code = isAuditFailure(err) ? err.code : 'audit.write_failed';
    const why = messageOf(err);
    const lostDecisionEventId = decision.auditEventId;
    if (upstreamMs === undefined) {
      deps.logger?.error({ code, err: why, agent: req.identity.agentId, kind, server: req.server, lostDecisionEventId }, 'a decision could not be recorded; nothing was forwarded');
      return auditFailed(err, `Warden could not record its decision on this ${req.describe.what} in the audit log, so nothing was forwarded: ${why}`);
    }
    deps.logger?.error(
      { code, err: why, agent: req.identity.agentId, kind, server: req.server, target: req.target(action), lostDecisionEventId },
      'a forwarded request was executed but its decision could not be recorded; the result was withheld from the agent',
    );
    deps.events.write(req.identity, req.target(action), kind, undefined, { outcome: 'error', type: `${kind}.audit_failed`, startedAt, upstreamMs, refusal: 'audit_failed', lostDecisionEventId });
    return auditFailed(
      err,
      `Warden could not record its decision on this ${req.describe.what} in the audit log and withheld ${req.describe.withheld}; the upstream server \`${req.server}\` was asked and may have acted on it, so check before retrying: ${why}`,
    );
  }
}

/** Whether an error is the audit sink's refusal to commit (a failed write, or a queue too far behind). */
function isAuditFailure(err: unknown): err is WardenError & { code: 'audit.write_failed' | 'audit.backpressure' } {
  return isWardenError(err) && (err.code === 'audit.write_failed' || err.code === 'audit.backpressure');
}

/** The refusal of a request whose decision is not in the audit log: no decision, no event id to point to. */
function auditFailed(err: unknown, message: string): Refusal {
  return { ...refusal('audit_failed', message), code: isAuditFailure(err) ? err.code : 'audit.write_failed' };
}

/** The JSON-RPC code an upstream answered with, if the error carries one. */
function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}
