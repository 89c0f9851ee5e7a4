import { redactValue } from '../../detect/index.js';
import type { Action, AuditEvent, Effect, Finding, SessionStep } from '../../domain/index.js';
import { buildDecisionEvent, buildDetectionEvent } from '../audit-events.js';
import { sensitiveOf } from '../evidence.js';
import { reached, type Pass, type PassStage } from '../pass.js';
import { sessionKeyOf } from './registry.js';

/**
 * audit: builds the decision event (over the forwarded action, so its digest is of the masked
 * arguments) and, when something was found, a correlated detection event, and awaits the sink:
 * no durable event, no decision. A deferred pass hands the commit back in `durable` instead, and its
 * caller answers nobody before it settles. It may not change the decision. Offline there is no
 * sink: nothing is written and no event id is claimed.
 */
export const audit: PassStage<'audit'> = {
  name: 'audit',
  async run(pass, deps): Promise<Pass> {
    if (!deps.audit) return pass;
    const { action, caller } = pass;
    const forwarded = reached(pass.forwarded, 'forwarded');
    const decision = reached(pass.decision, 'decision');
    const time = reached(pass.time, 'time');
    const findings = reached(pass.findings, 'findings');
    // The kept copy masks secrets and PII whatever the mandate says, and whatever the mandate redacted.
    const captureArgs = deps.capture?.args === true && action.args !== undefined;
    const captured = captureArgs && deps.detectors ? redactValue(action.args, [...sensitiveOf(reached(pass.scanned, 'scanned')), ...reached(pass.redaction, 'redaction').hits], 'args') : undefined;
    const event = buildDecisionEvent(forwarded, decision, { time, ...(caller ? { caller } : {}), latencyMs: performance.now() - pass.started, ...(captured !== undefined ? { capturedArgs: captured } : {}) });
    const events: AuditEvent[] = [event];
    const key = deps.sessions && pass.set?.readsSession ? sessionKeyOf(pass) : undefined;
    if (key) await deps.sessions!.record(key, stepOf(pass.action, forwarded, decision.effect, findings, event.id, time));
    if (findings.length > 0) events.push(buildDetectionEvent(forwarded, findings, { time, source: 'input', correlationId: event.id, ...(caller ? { caller } : {}) }));
    const write = deps.audit.append(events);
    if (pass.deferDurable) {
      // Handled here so a commit that fails while the caller still awaits its upstream is no
      // unhandled rejection; the caller awaits `durable` itself and sees the failure then.
      write.catch(() => {});
      return { ...pass, auditEventId: event.id, durable: write };
    }
    await write;
    return { ...pass, auditEventId: event.id };
  },
};

/** The step a decided action adds to its session: the tool (with its registry capabilities), the effect and the input findings. */
export function stepOf(resolved: Action, forwarded: Action, effect: Effect, findings: readonly Finding[], eventId: string, time: Date): SessionStep {
  const tool = forwarded.tool ? { server: forwarded.tool.server, name: forwarded.tool.name } : { server: forwarded.resource?.server ?? '', name: forwarded.resource?.uri ?? '' };
  return {
    eventId,
    at: time.toISOString(),
    kind: forwarded.kind,
    tool,
    capabilities: [...(resolved.tool?.capabilities ?? [])],
    effect,
    findings: findings.map((f) => ({ category: f.category, type: f.type, score: f.score, source: 'input' as const })),
  };
}
