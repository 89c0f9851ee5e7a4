import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { CheckpointObserver, PassObservation, Stage } from '../checkpoint/index.js';
import type { Action, Decision } from '../domain/index.js';
import type { Metrics } from './metrics.js';
import { contextOf, traceparentOf } from './trace-context.js';
import type { Tracing } from './tracing.js';

/** The MCP method an action kind is, for `mcp.method.name` (MCP semantic conventions). */
const MCP_METHOD: Partial<Record<string, string>> = { 'tool.call': 'tools/call', 'resource.read': 'resources/read', 'prompt.get': 'prompts/get' };

/**
 * Attributes of a checkpoint span: OpenTelemetry's GenAI and MCP names where one fits
 * (`gen_ai.operation.name`, `gen_ai.tool.name`, `gen_ai.agent.id`, `mcp.method.name`), `warden.*` for the rest.
 */
export function actionAttributes(action: Action): Attributes {
  const a: Attributes = { 'warden.action.kind': action.kind, 'warden.scope': action.scope };
  const method = MCP_METHOD[action.kind];
  if (method) a['mcp.method.name'] = method;
  if (action.kind === 'tool.call') a['gen_ai.operation.name'] = 'execute_tool';
  if (action.tool) {
    a['gen_ai.tool.name'] = action.tool.name;
    a['warden.tool.server'] = action.tool.server;
  }
  if (action.resource?.uri) a['mcp.resource.uri'] = action.resource.uri;
  if (action.agent?.id) a['gen_ai.agent.id'] = action.agent.id;
  return a;
}

/** A decision's attributes on its span: the effect and the rules that gave it. */
function decisionAttributes(d: Decision): Attributes {
  return {
    'warden.decision.effect': d.effect,
    'warden.decision.rules': d.reasons.map((r) => `${r.policy}/${r.rule}`),
    'warden.decision.findings': d.findings.length,
    ...(d.auditEventId ? { 'warden.audit.event_id': d.auditEventId } : {}),
  };
}

/**
 * The checkpoint's observer: every stage's time into the metrics, and a span per pass with a child
 * span per stage, in the caller's trace (its `traceparent`). Stage spans are written once the stage
 * has run, with its real start and end, so tracing adds no await to a stage. Without an exporting
 * provider and without a caller's trace, no span is made at all.
 */
export function checkpointObserver(deps: { metrics?: Metrics | undefined; tracing?: Tracing | undefined; onStage?: ((stage: Stage, ms: number) => void) | undefined }): CheckpointObserver {
  const { metrics, tracing, onStage } = deps;
  const origin = performance.timeOrigin;
  return {
    begin(pass, action, caller): PassObservation {
      const traced = tracing && (tracing.exporting || caller?.traceparent !== undefined);
      const parent = contextOf(caller?.traceparent);
      const span = traced ? tracing.tracer.startSpan(pass === 'check' ? 'warden.checkpoint' : 'warden.inspect', { kind: SpanKind.INTERNAL, attributes: actionAttributes(action) }, parent) : undefined;
      const within = span ? trace.setSpan(parent, span) : undefined;
      return {
        traceparent: span ? traceparentOf(span.spanContext()) : undefined,
        stage(stage, startedAt, ms) {
          metrics?.stage(stage, ms);
          onStage?.(stage, ms);
          if (span && span.isRecording()) tracing!.tracer.startSpan(`warden.checkpoint.${stage}`, { startTime: origin + startedAt, attributes: { 'warden.stage': stage } }, within).end(origin + startedAt + ms);
        },
        end(decision, error) {
          if (decision) metrics?.decided(action.kind, decision);
          if (error !== undefined) metrics?.failed(pass);
          if (!span) return;
          if (decision) span.setAttributes(decisionAttributes(decision));
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          span.end();
        },
      };
    },
  };
}
