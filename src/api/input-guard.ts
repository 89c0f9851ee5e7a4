import type { FastifyInstance } from 'fastify';
import { echoKey } from '../domain/index.js';
import { RequestInvalid } from './errors.js';

/**
 * Refuses a query string or path parameter holding NUL (U+0000) or an unpaired surrogate, before
 * schema validation: every one of them is a filter or a name that reaches the database, and
 * PostgreSQL text cannot hold NUL.
 */
export function inputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    for (const [part, values] of [['query', req.query], ['path', req.params]] as const) {
      if (values === null || typeof values !== 'object') continue;
      for (const [name, raw] of Object.entries(values as Record<string, unknown>)) {
        for (const v of Array.isArray(raw) ? raw : [raw]) {
          if (typeof v !== 'string') continue;
          const why = v.includes('\u0000') ? 'must not contain a NUL character (U+0000)' : !v.isWellFormed() ? 'contains an unpaired UTF-16 surrogate' : undefined;
          if (why) {
            const issue = { path: `/${echoKey(name)}`, message: why };
            throw new RequestInvalid(`the request ${part === 'query' ? 'querystring' : 'path'} is invalid: \`${issue.path}\` ${why}`, [issue]);
          }
        }
      }
    }
  });
}
