import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DeliveryStore } from '../../audit/index.js';

const Params = Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }) });
const Replay = Type.Object({ tenantId: Type.Optional(Type.String({ minLength: 1 })), fromSeq: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

/** `GET /api/v1/audit/destinations` (cursors, lag, errors) and replay from a sequence number. */
export function deliveryRoutes(app: FastifyInstance, deps: { delivery: Pick<DeliveryStore, 'status' | 'replay' | 'deadLetters'> }): void {
  app.get('/api/v1/audit/destinations', async () => ({ destinations: await deps.delivery.status() }));
  app.get<{ Params: Static<typeof Params> }>('/api/v1/audit/destinations/:name/dead-letters', { schema: { params: Params } }, async (req) => ({
    deadLetters: await deps.delivery.deadLetters(req.params.name, 1000),
  }));
  app.post<{ Params: Static<typeof Params>; Body: Static<typeof Replay> }>('/api/v1/audit/destinations/:name/replay', { schema: { params: Params, body: Replay } }, async (req, reply) => {
    await deps.delivery.replay(req.params.name, req.body.tenantId ?? 'default', req.body.fromSeq);
    return reply.status(202).send({ destination: req.params.name, tenantId: req.body.tenantId ?? 'default', fromSeq: req.body.fromSeq });
  });
}
