import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PolicyStatus } from '../../config/index.js';

/** The wire shape of `PolicyStatus` (src/config/policy-watcher.ts); a field missing here is dropped from the answer. */
const PolicyStatusSchema = Type.Object({
  version: Type.String({ description: "a hash over the set's file names and texts: equal versions mean the same files" }),
  loadedAt: Type.String({ format: 'date-time', description: 'when this set took effect' }),
  policies: Type.Array(
    Type.Object({
      name: Type.String(),
      version: Type.Integer(),
      mode: Type.Union([Type.Literal('enforce'), Type.Literal('warn'), Type.Literal('disabled')]),
      scopes: Type.Array(Type.String()),
      rules: Type.Integer({ description: 'how many rules the policy holds' }),
      file: Type.String({ description: 'the file it was read from' }),
    }),
  ),
  lastError: Type.Optional(
    Type.Object(
      { at: Type.String({ format: 'date-time' }), messages: Type.Array(Type.String()) },
      { description: 'set while the files on disk fail to load; the last good set stays in force' },
    ),
  ),
});

/** `GET /api/v1/policies`: the set in force, and why the last reload failed if it did. */
export function policyRoutes(app: FastifyInstance, deps: { status: () => PolicyStatus }): void {
  app.get('/api/v1/policies', { schema: { summary: 'the policy set in force, and why the last reload failed if it did', response: { 200: PolicyStatusSchema } } }, async () => deps.status());
}
