import type { FastifyRequest } from 'fastify';

function underApi(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/**
 * Whether a request is for the API. A matched request is judged by the route it matched, never by
 * the raw URL: `/%61pi/v1/policies` and the absolute form `http://host/api/v1/policies` reach the
 * route `/api/v1/policies`, so a test on the raw text would let them past authentication. An
 * unmatched request is judged by its decoded path.
 */
export function isApiRequest(req: FastifyRequest): boolean {
  const route = req.routeOptions.url;
  if (route !== undefined) return underApi(route);
  const raw = req.url.split('?')[0] ?? '';
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // Malformed escapes: judge the raw text; the router found nothing for it anyway.
  }
  path = path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  return underApi(path) || underApi(raw);
}
