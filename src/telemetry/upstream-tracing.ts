import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { UpstreamTracing } from '../gateway/ports.js';
import { contextOf, traceparentOf } from './trace-context.js';
import type { Tracing } from './tracing.js';

const METHOD = { 'tool.call': 'tools/call', 'resource.read': 'resources/read', 'prompt.get': 'prompts/get' } as const;

/**
 * A client span per forwarded request (`tools/call echo`, MCP semantic conventions), a sibling of the
 * checkpoint's span in the agent's trace; its context goes upstream so the server's spans join the
 * trace. Without an exporting provider and without the agent's trace, the agent's context is passed
 * on as it came and no span is made.
 */
export function upstreamTracing(tracing: Tracing): UpstreamTracing {
  const none = (traceparent: string | undefined) => ({ traceparent, end: () => {} });
  return {
    begin({ server, kind, name, traceparent }) {
      if (!tracing.exporting && traceparent === undefined) return none(traceparent);
      const method = METHOD[kind];
      const span = tracing.tracer.startSpan(
        `${method} ${name}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'mcp.method.name': method,
            'warden.upstream.server': server,
            ...(kind === 'tool.call' ? { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name } : kind === 'resource.read' ? { 'mcp.resource.uri': name } : { 'gen_ai.prompt.name': name }),
          },
        },
        contextOf(traceparent),
      );
      return {
        traceparent: traceparentOf(span.spanContext()) ?? traceparent,
        end(outcome, error) {
          if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, ...(error !== undefined ? { message: error instanceof Error ? error.message : String(error) } : { message: 'the tool reported an error' }) });
          if (outcome === 'error') span.setAttribute('error.type', error instanceof Error ? error.name : 'upstream_error');
          span.end();
        },
      };
    },
  };
}
