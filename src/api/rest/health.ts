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

/** `/healthz` (the process answers) and `/readyz` (every dependency answers). */
export function healthRoutes(app: FastifyInstance, deps: { checks: Record<string, ReadinessCheck> }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, ReadinessResult> = {};
    let ready = true;
    for (const [name, check] of Object.entries(deps.checks)) {
      let r: ReadinessResult;
      try {
        r = await check();
      } catch (err) {
        r = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
      results[name] = r;
      if (!r.ok) ready = false;
    }
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
}
