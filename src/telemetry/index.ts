export { checkpointObserver, actionAttributes } from './checkpoint-observer.js';
export { createMetrics, MAX_LABEL_VALUES, OTHER } from './metrics.js';
export type { Metrics, MetricSources } from './metrics.js';
export { contextOf, traceparentOf } from './trace-context.js';
export { createTracing } from './tracing.js';
export type { Tracing, TracingOptions } from './tracing.js';
export { upstreamTracing } from './upstream-tracing.js';
