import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteAccess } from '../../identity/index.js';
import { openApiDocument, type CollectedRoute, type OpenApiDocument } from '../openapi.js';
import { REFERENCE_PAGE_CSP, referencePage } from '../openapi-page.js';

/**
 * `GET /api/openapi.json` (the OpenAPI 3.1 document of the API) and `GET /docs/api` (the same, as a
 * page to read). Both are built once, at the first request: the route list is complete by then.
 */
export function apiReferenceRoutes(app: FastifyInstance, deps: { routes: readonly CollectedRoute[]; version: string; access: readonly RouteAccess[] }): void {
  let doc: OpenApiDocument | undefined;
  let json: string | undefined;
  let html: string | undefined;
  const document = () => (doc ??= openApiDocument(deps.routes, { version: deps.version, access: deps.access }));
  app.get(
    '/api/openapi.json',
    { schema: { summary: 'this document: the API as OpenAPI 3.1.0', response: { 200: Type.Object({}, { additionalProperties: true, description: 'an OpenAPI 3.1.0 document' }) } } },
    // Sent as text: a string skips the response serializer, which would rebuild the whole document each time.
    async (_req, reply) => reply.type('application/json; charset=utf-8').send((json ??= JSON.stringify(document()))),
  );
  // Outside `/api/`: public like the document it renders, which describes the API and no tenant's data.
  app.get('/docs/api', { schema: { response: { 200: Type.String({ description: 'an HTML page' }) } } }, async (_req, reply) =>
    reply
      .header('content-security-policy', REFERENCE_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send((html ??= referencePage(document()))),
  );
}
