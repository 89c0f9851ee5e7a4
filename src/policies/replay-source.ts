import type { AuditEvent } from '../domain/index.js';

/** The audit log as replay reads it: decision events of one tenant, filtered, streamed. (src/store's AuditRepo implements it.) */
export interface AuditRepoLike {
  stream(query: ReplayQuery, opts?: { batchSize?: number }): AsyncIterable<AuditEvent>;
  count(query: ReplayQuery): Promise<number>;
}

/** The filters replay uses, as `AuditQuery` spells them. */
export interface ReplayQuery {
  tenant: string;
  category: 'decision';
  from?: string;
  to?: string;
  scope?: string;
  within?: readonly string[];
}
