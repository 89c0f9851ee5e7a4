import type { FastifyInstance } from 'fastify';

/** One readiness check: `ok: false` makes `/readyz` answer 503; `detail` is shown either way. */
export type ReadinessCheck = () => Promise<{ ok: boolean; detail?: string }>;

/** `/healthz` (the process answers) and `/readyz` (every dependency answers). */
export function healthRoutes(app: FastifyInstance, deps: { checks: Record<string, ReadinessCheck> }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, { ok: boolean; detail?: string }> = {};
    let ready = true;
    for (const [name, check] of Object.entries(deps.checks)) {
      let r: { ok: boolean; detail?: string };
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
