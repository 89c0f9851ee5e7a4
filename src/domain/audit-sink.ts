import type { AuditEvent } from './audit-event.js';

/** Where audit events go; `append` resolves only once the events are durable. */
export interface AuditSink {
  append(events: readonly AuditEvent[]): Promise<void>;
}
