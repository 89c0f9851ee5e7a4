import type { FastifyInstance } from 'fastify';
import type { PolicyStatus } from '../../config/index.js';

/** `GET /api/v1/policies`: the set in force, and why the last reload failed if it did. */
export function policyRoutes(app: FastifyInstance, deps: { status: () => PolicyStatus }): void {
  app.get('/api/v1/policies', async () => deps.status());
}
