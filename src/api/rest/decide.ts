import type { FastifyInstance } from 'fastify';
import type { Checkpoint } from '../../checkpoint/index.js';
import { ActionSchema, DecisionSchema, type Action } from '../../domain/index.js';

/** `POST /api/v1/decide`: an Action in, the Decision out, once its audit event is durable. */
export function decideRoutes(app: FastifyInstance, deps: { checkpoint: Pick<Checkpoint, 'check'> }): void {
  app.post<{ Body: Action }>(
    '/api/v1/decide',
    {
      schema: {
        body: ActionSchema,
        response: { 200: DecisionSchema },
      },
    },
    async (req) => {
      const ua = req.headers['user-agent'];
      const { decision } = await deps.checkpoint.check(req.body, { ip: req.ip, ...(ua ? { userAgent: ua } : {}) });
      return decision;
    },
  );
}
