import type { Checkpoint } from '../checkpoint/index.js';
import { newAuditEvent, type AuditEvent, type AuditOutcome, type AuditSink, type Clock, type Decision } from '../domain/index.js';
import type { RefusalKind } from './outcome.js';
import type { GatewayLogger, GovernedKind, SessionIdentity } from './ports.js';

/** What a governed request was about, as its audit events name it. */
export type EventTarget = NonNullable<AuditEvent['target']>;

/** How one governed request ended, past its decision. */
export interface RequestEnd {
  /** The event type: `tool.call.completed`, `resource.read.failed`, `prompt.get.rate_limited` … */
  type: string;
  outcome: AuditOutcome;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  /** How long the upstream took, when it was asked. */
  upstreamMs?: number | undefined;
  refusal?: RefusalKind | undefined;
  /** A tool result's own `isError` (tool calls only). */
  isError?: boolean | undefined;
  /** What the agent received; its digest (and body, when captured) goes into the event. */
  result?: unknown;
  /**
   * `*.audit_failed` only: the id the decision event would have had. The event then points to no
   * decision (`decision` is passed as undefined), since none was committed.
   */
  lostDecisionEventId?: string | undefined;
}

/** The result events (`*.completed`, `*.failed`, `*.rate_limited`, `*.output_blocked` …) and the writes still in flight. */
export interface ResultEvents {
  /**
   * Writes the result event of one request; it points to the decision event. A request refused
   * before any decision (an unknown tool, resource or prompt) has none. Never throws, never delays
   * the answer.
   */
  write(id: SessionIdentity, target: EventTarget, kind: GovernedKind, decision: Decision | undefined, end: RequestEnd): void;
  /** Resolves once every event written so far has been handed to the audit sink. */
  flush(): Promise<void>;
}

/** Builds the result-event writer over the audit sink. */
export function createResultEvents(deps: {
  checkpoint: Pick<Checkpoint, 'resultPayload'>;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  logger?: GatewayLogger | undefined;
}): ResultEvents {
  const inflight = new Set<Promise<unknown>>();
  const ms = (n: number) => Math.round(n * 1000) / 1000;
  return {
    write(id, target, kind, decision, end) {
      const event = newAuditEvent(
        {
          ...(id.tenantId !== undefined ? { tenantId: id.tenantId } : {}),
          scope: id.scope,
          category: 'tool_call',
          type: end.type,
          severity: end.outcome === 'success' ? 'info' : 'low',
          outcome: end.outcome,
          actor: { type: 'agent', id: id.agentId, authMethod: id.via, ...(id.ip ? { ip: id.ip } : {}), ...(id.userAgent ? { userAgent: id.userAgent } : {}) },
          agent: { id: id.agentId },
          ...(id.principal ? { onBehalfOf: { id: id.principal.id, ...(id.principal.roles ? { roles: id.principal.roles } : {}) } } : {}),
          target,
          action: { kind },
          latencyMs: ms(performance.now() - end.startedAt),
          ...(decision?.auditEventId ? { correlationId: decision.auditEventId } : {}),
          details: {
            ...(end.upstreamMs !== undefined ? { upstreamMs: ms(end.upstreamMs) } : {}),
            ...(end.refusal ? { refusal: end.refusal } : {}),
            ...(end.isError !== undefined ? { isError: end.isError } : {}),
            ...(end.lostDecisionEventId !== undefined ? { lostDecisionEventId: end.lostDecisionEventId } : {}),
          },
        },
        deps.clock.now(),
      );
      // INVARIANT: the governed flow writes a result event only once its decision event is durable
      // (in either audit mode), so the event never points to a decision that was not committed; the
      // result event need not delay the answer. It is tracked so `flush()` (and `close()`) wait for it.
      const write = (end.result === undefined ? Promise.resolve(event) : deps.checkpoint.resultPayload(end.result).then((payload) => ({ ...event, payload })))
        .then((e) => deps.audit.append([e]))
        .catch((err) => deps.logger?.error({ err: String(err), target: target.name ?? target.uri }, 'could not write the result event'))
        .finally(() => inflight.delete(write));
      inflight.add(write);
    },
    async flush() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}
