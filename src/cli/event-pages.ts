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
  for (;;) {
    const page = await list({ ...query, limit: pageSize, ...(cursor !== undefined ? { cursor } : {}) });
    yield* page.events;
    if (page.nextCursor === null || page.events.length === 0) return;
    cursor = page.nextCursor;
  }
}

/**
 * The value with every object's keys in sorted order (RFC 8785's order), at every depth. The database
 * hands events back in its own key order and the API in its schema's, so the CLI prints both in this
 * one order: the same command prints the same text either way. Null-prototype objects, so a
 * `__proto__` key an agent put in an event stays a plain key.
 */
export function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(src).sort()) out[k] = sortedKeys(src[k]);
  return out as T;
}
