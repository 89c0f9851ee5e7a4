import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';

/** A URL as the log keeps it: the path, and the names of the query parameters without their values. */
export function loggedUrl(url: string): { path: string; query?: string[] } {
  const at = url.indexOf('?');
  if (at < 0) return { path: url };
  const names = new Set<string>();
  for (const pair of url.slice(at + 1).split('&')) {
    const name = pair.split('=')[0];
    if (name) names.add(safeDecode(name).slice(0, 64));
  }
  return { path: url.slice(0, at), ...(names.size > 0 ? { query: [...names] } : {}) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * A logger whose `req` serializer drops query values: a token searched with `?q=` must not land in
 * the log. Fastify takes the instance's serializers over its own.
 */
export function requestLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child({}, { serializers: { req: (req: FastifyRequest) => ({ method: req.method, ...loggedUrl(req.url), remoteAddress: req.ip }) } });
}

/**
 * One line per request, at `debug` when it succeeded, `warn` for a client error and `error` for a
 * server error; Fastify's own `info` pair per request is turned off (its `LogController`).
 */
export function requestLogging(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug';
    req.log[level]({ method: req.method, ...loggedUrl(req.url), status, ms: Math.round(reply.elapsedTime) }, 'request answered');
  });
}
