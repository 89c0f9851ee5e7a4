import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

/**
 * What one readiness check reports: `ok: false` makes `/readyz` answer 503; `detail` and any other
 * field (the policy set's `version` and `loadedAt`) are shown either way.
 */
export interface ReadinessResult {
  ok: boolean;
  detail?: string;
  [fact: string]: unknown;
}

/** One readiness check. */
export type ReadinessCheck = () => Promise<ReadinessResult>;

// A check adds its own fields (`version`, `loadedAt`, `lastError`): the response serializer drops
// whatever its schema does not allow, so this one allows any.
const ReadinessResultSchema = Type.Object(
  { ok: Type.Boolean(), detail: Type.Optional(Type.String()) },
  { additionalProperties: true, description: "one check; other fields (the policy set's `version`, `loadedAt`) vary by check" },
);
const Readiness = (description: string) =>
  Type.Object({ status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]), checks: Type.Record(Type.String(), ReadinessResultSchema) }, { description });

/** Runs every check (a throw is a failed check) and says whether all passed. */
export async function readinessOf(checks: Record<string, ReadinessCheck>): Promise<{ status: 'ready' | 'not_ready'; checks: Record<string, ReadinessResult> }> {
  const results: Record<string, ReadinessResult> = {};
  let ready = true;
  for (const [name, check] of Object.entries(checks)) {
    let r: ReadinessResult;
    try {
      r = await check();
    } catch (err) {
      r = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
    results[name] = r;
    if (!r.ok) ready = false;
  }
  return { status: ready ? 'ready' : 'not_ready', checks: results };
}

/** `/healthz` (the process answers) and `/readyz` (every dependency answers). */
export function healthRoutes(app: FastifyInstance, deps: { checks: Record<string, ReadinessCheck> }): void {
  app.get('/healthz', { schema: { summary: 'the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'every dependency answers', response: { 200: Readiness('ready'), 503: Readiness('a check failed: not ready') } } }, async (_req, reply) => {
    const r = await readinessOf(deps.checks);
    return reply.status(r.status === 'ready' ? 200 : 503).send(r);
  });
}
