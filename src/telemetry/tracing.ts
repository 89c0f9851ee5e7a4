import { trace, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Where spans go. */
export interface TracingOptions {
  /**
   * An OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`). Without it and without an
   * exporter, Warden uses the global tracer: a no-op unless the process that embeds Warden registered
   * a provider, so tracing costs nothing when nobody listens.
   */
  otlpEndpoint?: string | undefined;
  /** Headers sent with every export (an API key). */
  otlpHeaders?: Readonly<Record<string, string>> | undefined;
  /** A span exporter of the host's own (tests use the SDK's in-memory one); wins over `otlpEndpoint`. */
  exporter?: SpanExporter | undefined;
  /** `service.name` of the spans. @default 'warden' */
  serviceName?: string | undefined;
}

/** The tracer of one process and how to drain it. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Whether spans are recorded and exported by Warden's own provider. */
  readonly exporting: boolean;
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/**
 * The process's tracer. Warden's own provider is not registered globally: a library must not take
 * over its host's tracing, and two cores in one process (tests, the demo) keep their own.
 */
export async function createTracing(opts: TracingOptions = {}): Promise<Tracing> {
  let exporter = opts.exporter;
  if (!exporter && opts.otlpEndpoint) {
    // Loaded only when configured: the exporter and its protobuf transformer are not small.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter({ url: opts.otlpEndpoint, ...(opts.otlpHeaders ? { headers: { ...opts.otlpHeaders } } : {}) });
  }
  if (!exporter) {
    return { tracer: trace.getTracer('warden'), exporting: false, flush: async () => {}, shutdown: async () => {} };
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'warden' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  return {
    tracer: provider.getTracer('warden'),
    exporting: true,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
