import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditReader } from '../../audit/index.js';
import { AuditEventSchema } from '../../domain/index.js';
import { credentialOf } from '../auth.js';
import { AuditEventsQuery, readAuditEvents } from '../reads/audit-events.js';

/** `GET /api/v1/audit/events`: newest first, filtered, cursor-paginated. */
export function auditRoutes(app: FastifyInstance, deps: { audit: AuditReader }): void {
  app.get<{ Querystring: AuditEventsQuery }>(
    '/api/v1/audit/events',
    {
      schema: {
        querystring: AuditEventsQuery,
        response: { 200: Type.Object({ events: Type.Array(AuditEventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (req) => readAuditEvents(deps.audit, credentialOf(req), req.query),
  );
}
