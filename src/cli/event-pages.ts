import { CliError, EXIT } from './io.js';
import type { AuditPage, AuditQuery } from '../audit/index.js';
import type { AuditEvent } from '../domain/index.js';
import type { Remote } from './remote.js';

/** Reads audit events newest first, a page at a time: the API's `GET /api/v1/audit/events` or the store's `list`. */
export type ListEvents = (query: AuditQuery) => Promise<AuditPage>;

/** The query parameter of each filter the API takes (the store calls free text `text`, the API `q`). */
const PARAMS: readonly (readonly [keyof AuditQuery, string])[] = [
  ['from', 'from'],
  ['to', 'to'],
  ['agent', 'agent'],
  ['tool', 'tool'],
  ['principal', 'principal'],
  ['effect', 'effect'],
  ['scope', 'scope'],
  ['category', 'category'],
  ['type', 'type'],
  ['outcome', 'outcome'],
  ['text', 'q'],
  ['limit', 'limit'],
  ['cursor', 'cursor'],
];

/** Lists events through a server: the token's tenant, the scopes where its role reads. */
export function remoteEvents(r: Remote): ListEvents {
  return (query) => {
    const params = new URLSearchParams();
    for (const [key, param] of PARAMS) {
      const value = query[key];
      if (value !== undefined) params.set(param, String(value));
    }
    return r.request<AuditPage>('GET', `/api/v1/audit/events?${params.toString()}`);
  };
}

/** Every event the query matches, newest first, page by page (memory stays flat). */
export async function* allEvents(list: ListEvents, query: Omit<AuditQuery, 'limit' | 'cursor'>, pageSize = 1000): AsyncIterable<AuditEvent> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await list({ ...query, limit: pageSize, ...(cursor !== undefined ? { cursor } : {}) });
    // A server that hands out more than a page, or a cursor it gave before, would keep us here forever.
    yield* page.events.slice(0, pageSize);
    if (page.nextCursor === null || page.events.length === 0) return;
    if (seen.has(page.nextCursor)) throw new CliError('the server repeated a page cursor; stopping rather than reading the same pages again', EXIT.runtime);
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
