import type { Checkpoint } from '../checkpoint/index.js';
import type { Action } from '../domain/index.js';
import { messageOf } from './error-message.js';
import { refusal, type Outcome } from './outcome.js';
import type { GovernedKind, InspectedResult, ResultInspector, SessionIdentity } from './ports.js';
import type { RateLimits } from './rate-limit.js';
import type { EventTarget, RequestEnd, ResultEvents } from './result-events.js';
import { policyMessage } from './results.js';
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
  forward(decided: Action): Promise<R>;
  /** Rewrites the result into what the agent sees (namespaced URIs); applied before the result event records it. */
  expose?: ((result: R) => R) | undefined;
  /** Whether a result reports its own failure (a tool result's `isError`); recorded for tool calls only. */
  isError?: ((result: R) => boolean) | undefined;
}

/** Runs governed requests; never throws for a refusal, only for a failure of Warden itself (the audit write of a decision). */
export type Govern = <R extends InspectedResult>(req: GovernedRequest<R>) => Promise<Outcome<R>>;

/**
 * The one governed flow: decide through the checkpoint (the decision event is durable before
 * anything is forwarded) → rate limit → validate → forward → inspect → write the result event.
 * Every refusal after the decision carries the decision and its audit event id.
 *
 * INVARIANT: validation and the upstream see the checkpoint's `action`, never `req.action`: what is
 * forwarded is exactly what was decided on and audited (masked arguments included).
 */
export function createGovern(deps: {
  checkpoint: Pick<Checkpoint, 'check'>;
  limits: RateLimits;
  events: ResultEvents;
  inspector?: ResultInspector | undefined;
}): Govern {
  return async <R extends InspectedResult>(req: GovernedRequest<R>): Promise<Outcome<R>> => {
    const startedAt = performance.now();
    const kind = req.action.kind;
    const { decision, action } = await deps.checkpoint.check(req.action, callerOf(req.identity));
    if (decision.effect !== 'allow') return refusal('policy', policyMessage(decision, req.describe.what), decision);

    const target = req.target(action);
    const end = (e: Omit<RequestEnd, 'startedAt'>) => deps.events.write(req.identity, target, kind, decision, { ...e, startedAt });
    const limited = await deps.limits.check(req.identity.agentId, kind, req.limitName);
    if (limited) {
      end(limited.refusal === 'rate_limited' ? { outcome: 'failure', type: `${kind}.rate_limited`, refusal: 'rate_limited' } : { outcome: 'error', type: `${kind}.rate_limiter_unavailable`, refusal: 'rate_limiter_unavailable' });
      return { ...refusal(limited.refusal, limited.message, decision), ...(limited.code ? { code: limited.code } : {}) };
    }
    const invalid = req.validate?.(action);
    if (invalid) {
      end({ outcome: 'failure', type: `${kind}.invalid_arguments`, refusal: 'invalid_arguments' });
      return refusal('invalid_arguments', invalid, decision);
    }

    const upstreamStarted = performance.now();
    let result: R;
    try {
      result = await req.forward(action);
    } catch (err) {
      end({ outcome: 'error', type: `${kind}.failed`, upstreamMs: performance.now() - upstreamStarted, refusal: 'upstream_error' });
      // The SDK prefixes its errors with `MCP error <code>: `; the code travels on its own.
      const why = messageOf(err).replace(/^(MCP error -?\d+: )+/, '');
      return refusal('upstream_error', `the upstream server \`${req.server}\` failed ${req.describe.failure}: ${why}`, decision, codeOf(err));
    }
    const upstreamMs = performance.now() - upstreamStarted;
    if (deps.inspector) {
      const verdict = await deps.inspector.inspect(action, result);
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
  };
}

/** The JSON-RPC code an upstream answered with, if the error carries one. */
function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}
