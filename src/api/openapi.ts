import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { RouteAccess } from '../identity/index.js';
import { STATUS_OF } from './errors.js';

declare module 'fastify' {
  interface FastifySchema {
    /** One line on what the route does, for the OpenAPI document and the reference page (Fastify ignores it). */
    summary?: string;
  }
}

/** A JSON Schema (2020-12) as it appears in the document: plain string keys, no TypeBox symbols. */
export type JsonSchema = { [keyword: string]: unknown };

/** One route as Fastify registered it. */
export interface CollectedRoute {
  readonly method: string;
  /** As registered, prefix included (`:param`, `*`). */
  readonly url: string;
  readonly schema: FastifySchema | undefined;
}

/** An OpenAPI 3.1 parameter object. */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

/** An OpenAPI 3.1 response object; `x-warden-codes` lists the wire error codes it may carry. */
export interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema: JsonSchema }>;
  'x-warden-codes'?: string[];
}

/** An OpenAPI 3.1 operation object, with the roles of the route x role table. */
export interface OpenApiOperation {
  operationId: string;
  summary?: string;
  description?: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
  /** The roles that pass the gate (ROUTE_ACCESS); absent on the public health routes. */
  'x-warden-roles'?: string[];
}

/** An OpenAPI 3.1.0 document. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

const ROUTES_KEY = 'wardenCollectedRoutes';

/**
 * Records every route registered on `app` from now on (HEAD routes left out: Fastify adds one per
 * GET and it answers like the GET). Call it before registering the routes; the list fills as they
 * register and is complete once the app is ready. {@link collectedRoutes} reads it back.
 */
export function collectRoutes(app: FastifyInstance): readonly CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.decorate(ROUTES_KEY, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: r.url, schema: r.schema });
    }
  });
  return routes;
}

/** The list {@link collectRoutes} fills on `app`; throws when it was never called there. */
export function collectedRoutes(app: FastifyInstance): readonly CollectedRoute[] {
  return app.getDecorator<readonly CollectedRoute[]>(ROUTES_KEY);
}

/** True for the routes the document describes: the API under `/api/`, and the two health probes. */
export function documents(url: string): boolean {
  return url.startsWith('/api/') || url === '/healthz' || url === '/readyz';
}

const PUBLIC = new Set(['/healthz', '/readyz']);
const PARAM = /:([A-Za-z0-9_]+)(\([^)]*\))?/g;

/**
 * What keeps a route from being documented: no response schema for its success, no schema for its
 * path parameters, or (under `/api/`) no entry in the route x role table. Empty when all is well;
 * test/openapi.test.ts fails on anything here.
 */
export function routeProblems(routes: readonly CollectedRoute[], access: readonly RouteAccess[]): string[] {
  const problems: string[] = [];
  for (const r of routes) {
    const name = `\`${r.method} ${r.url}\``;
    const success = Object.keys(r.schema?.response ?? {}).some((s) => /^2(\d\d|xx)$/i.test(s));
    if (!success) problems.push(`${name} has no response schema for its success status`);
    if ((r.url.includes(':') || r.url.includes('*')) && !r.schema?.params) problems.push(`${name} has no schema for its path parameters`);
    if (r.url.startsWith('/api/') && !access.some((a) => a.method === r.method && a.url === r.url)) problems.push(`${name} is not in the route x role table (ROUTE_ACCESS)`);
  }
  return problems;
}

/** What every error body looks like (src/api/errors.ts `WireError`). */
const WireErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'a stable code from docs/errors.md, such as `auth.forbidden`' }),
      message: Type.String({ description: 'one sentence for a person; not for parsing' }),
      issues: Type.Optional(Type.Array(Type.Object({ path: Type.String({ description: 'a JSON pointer into the input' }), message: Type.String() }), { description: 'what failed validation, for `request.invalid` and `action.invalid`' })),
      help: Type.Optional(Type.String({ description: 'what to do about it' })),
    }),
  },
  { description: 'the body of every error answer' },
);

/** The error answers an operation may give beside its own responses, and the codes behind each status. */
const ERROR_REASON: Readonly<Record<string, string>> = {
  '400': 'the request is invalid (path, query or body)',
  '401': 'no bearer token, or one that is unknown, expired or revoked',
  '403': "the token's roles do not allow this route or this scope",
  '404': 'the named resource does not exist',
  '413': 'the request body is too large',
  '415': 'the request body is not JSON',
  '429': 'too many failed authentication attempts; retry later',
  '500': 'an internal error; the server log has the details',
  '503': 'the database or the audit log cannot take the request now; retry later',
};

/** Status → the wire codes STATUS_OF maps to it (500 also answers `internal` for any unmapped code). */
function codesByStatus(): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const [code, status] of Object.entries(STATUS_OF)) by.set(String(status), [...(by.get(String(status)) ?? []), code]);
  return by;
}

function errorStatuses(r: CollectedRoute, hasPathParams: boolean): string[] {
  if (PUBLIC.has(r.url)) return ['500'];
  return ['400', '401', '403', ...(hasPathParams ? ['404'] : []), ...(r.schema?.body ? ['413', '415'] : []), '429', '500', '503'];
}

/**
 * TypeBox's schema as plain JSON Schema 2020-12: symbol keys (`[Kind]`, `[OptionalKind]`) dropped,
 * draft-07 tuples (`items: [...]`) rewritten to `prefixItems`. A copy: the route's schema stays as is.
 */
export function plainSchema(schema: unknown): JsonSchema {
  const copy = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(copy);
    if (v === null || typeof v !== 'object') return v;
    const out: JsonSchema = {};
    for (const key of Object.keys(v)) out[key] = copy((v as JsonSchema)[key]);
    if (Array.isArray(out.items)) {
      out.prefixItems = out.items;
      if (out.additionalItems === false) out.items = false;
      else delete out.items;
      delete out.additionalItems;
    }
    return out;
  };
  const out = copy(schema);
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as JsonSchema) : {};
}

/** `/a/:id/*` → `/a/{id}/{path}`, with the names of its path parameters. */
function openApiPath(url: string): { path: string; params: string[] } {
  const params: string[] = [];
  let path = url.replace(PARAM, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  if (path.endsWith('*')) {
    path = `${path.slice(0, -1)}{path}`;
    params.push('path');
  }
  return { path, params };
}

function parameters(schema: unknown, where: 'path' | 'query'): OpenApiParameter[] {
  const s = plainSchema(schema);
  if (s.properties === null || typeof s.properties !== 'object') return [];
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  return Object.entries(s.properties as Record<string, JsonSchema>).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return {
      // Fastify names the wildcard `*`; the document's path names it `{path}`.
      name: name === '*' ? 'path' : name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const REASON: Readonly<Record<string, string>> = { '200': 'OK', '201': 'created', '202': 'accepted', '204': 'no content', '503': 'not ready' };

function responses(r: CollectedRoute, hasPathParams: boolean, codes: Map<string, string[]>): Record<string, OpenApiResponse> {
  const out: Record<string, OpenApiResponse> = {};
  for (const [status, raw] of Object.entries((r.schema?.response ?? {}) as Record<string, unknown>)) {
    const key = status.replace(/xx$/i, 'XX');
    const schema = plainSchema(raw);
    out[key] = { description: typeof schema.description === 'string' ? schema.description : (REASON[key] ?? 'answer'), content: { 'application/json': { schema } } };
  }
  for (const status of errorStatuses(r, hasPathParams)) {
    if (out[status]) continue;
    const listed = codes.get(status) ?? [];
    out[status] = {
      description: ERROR_REASON[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/WireError' } } },
      'x-warden-codes': status === '500' ? ['internal'] : listed,
    };
  }
  return out;
}

function tagOf(url: string): string {
  if (PUBLIC.has(url)) return 'health';
  const segments = url.split('/').filter(Boolean);
  if (segments[1] === 'graphql') return 'graphql';
  return segments[1] === 'v1' ? (segments[2] ?? 'api') : 'reference';
}

function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((s) => s && s !== 'api' && s !== 'v1')
    .flatMap((s) => (s.startsWith('{') ? ['by', s.slice(1, -1)] : s.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

function operation(r: CollectedRoute, path: string, pathParams: readonly string[], access: RouteAccess | undefined, codes: Map<string, string[]>): OpenApiOperation {
  const schema = r.schema ?? {};
  const params = parameters(schema.params, 'path');
  // A path parameter with no schema is still declared (OpenAPI requires it); routeProblems names the gap.
  for (const name of pathParams) if (!params.some((p) => p.name === name)) params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
  const all = [...params, ...parameters(schema.querystring, 'query')];
  const summary = schema.summary;
  return {
    operationId: operationId(r.method, path),
    ...(typeof summary === 'string' ? { summary } : {}),
    ...(access ? { description: `Scoping: ${access.scoping}.` } : PUBLIC.has(r.url) ? { description: 'Public: no token needed (for load balancers and orchestrators).' } : {}),
    tags: [tagOf(r.url)],
    security: PUBLIC.has(r.url) ? [] : [{ bearerAuth: [] }],
    ...(all.length > 0 ? { parameters: all } : {}),
    ...(schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: plainSchema(schema.body) } } } } : {}),
    responses: responses(r, pathParams.length > 0, codes),
    ...(access ? { 'x-warden-roles': [...access.roles] } : {}),
  };
}

/**
 * The OpenAPI 3.1.0 document of the routes under `/api/` plus `/healthz` and `/readyz`, from the
 * schemas Fastify validates and serializes with: parameters from `params` and `querystring`, the body
 * from `body`, responses from `response` plus the wire errors each route may answer, the bearer
 * scheme on every `/api/` operation, and the roles and scoping of the route x role table.
 */
export function openApiDocument(routes: readonly CollectedRoute[], opts: { version: string; access: readonly RouteAccess[] }): OpenApiDocument {
  const codes = codesByStatus();
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  const tags = new Set<string>();
  for (const r of [...routes].filter((x) => documents(x.url)).sort((a, b) => (a.url === b.url ? a.method.localeCompare(b.method) : a.url.localeCompare(b.url)))) {
    const { path, params } = openApiPath(r.url);
    const access = opts.access.find((a) => a.method === r.method && a.url === r.url);
    const op = operation(r, path, params, access, codes);
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
    for (const t of op.tags) tags.add(t);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Warden API',
      version: opts.version,
      description: 'Decide, audit and administer what AI agents do. Every `/api/` route takes a bearer token (`Authorization: Bearer wdn_…`); `x-warden-roles` names the roles that may call it. An error answer lists in `x-warden-codes` the codes the API maps to its status (docs/errors.md); one route answers a subset of them.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { WireError: plainSchema(WireErrorSchema) },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'a Warden API token (`wdn_…`)' } },
    },
  };
}
