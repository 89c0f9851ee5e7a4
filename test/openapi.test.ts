import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Type } from '@sinclair/typebox';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/index.js';
import { REFERENCE_PAGE_CSP, referencePage } from '../src/api/openapi-page.js';
import { collectRoutes, collectedRoutes, documents, openApiDocument, routeProblems, type JsonSchema, type OpenApiDocument } from '../src/api/openapi.js';
import { openPolicies } from '../src/config/index.js';
import { ROUTE_ACCESS } from '../src/identity/index.js';
import { apiCore, authed, withHeaders, type ApiUnderTest } from './support/api-core.js';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: baseline, scope: acme, version: 3 }
spec:
  rules:
    - { name: reads, effect: allow, match: { tools: ["*.read*"] } }
    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] }, message: no shell here }
`;

let api: ApiUnderTest;
let app: FastifyInstance;
let doc: OpenApiDocument;

beforeAll(async () => {
  api = await apiCore(POLICY);
  app = authed(api);
  const res = await app.inject({ url: '/api/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(() => api?.close());

/** `/a/:id/*` → `/a/{id}/{path}`, written here again so the test does not trust the code under test. */
const pathOf = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');

/** A strict 2020-12 validator: an unknown keyword or format in a documented schema fails to compile. */
const ajv = () => addFormats(new Ajv2020({ strict: true, allErrors: true }));

/** The schema the document gives for one answer, its `$ref` to a component resolved. */
function documented(d: OpenApiDocument, method: string, path: string, status: string): JsonSchema {
  const schema = d.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`no ${status} schema documented for ${method} ${path}`);
  const ref = schema.$ref;
  return typeof ref === 'string' ? d.components.schemas[ref.split('/').pop()!]! : schema;
}

function expectValid(schema: JsonSchema, body: unknown): void {
  const check = ajv().compile(schema);
  const ok = check(body);
  expect(ok ? [] : check.errors, JSON.stringify(body).slice(0, 400)).toEqual([]);
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1.0 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const v = new Validator();
    const result = await v.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(v.version).toBe('3.1');
  });

  it('documents every registered route, each with a schema; nothing outside /api, /healthz and /readyz', () => {
    const routes = collectedRoutes(app);
    expect(routeProblems(routes, ROUTE_ACCESS)).toEqual([]);
    // The collected list against Fastify's own: the same number of (non-HEAD) method registrations.
    const printed = [...app.printRoutes({ commonPrefix: false }).matchAll(/\(([A-Z, ]+)\)/g)].flatMap((m) => m[1]!.split(', ')).filter((m) => m !== 'HEAD');
    expect(routes.length).toBe(printed.length);
    for (const r of routes) expect(app.hasRoute({ method: r.method as 'GET', url: r.url })).toBe(true);
    const undocumented = routes.filter((r) => !documents(r.url)).map((r) => `${r.method} ${r.url}`);
    expect(undocumented).toEqual(['GET /docs/api']);
    const inDoc = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const registered = routes.filter((r) => documents(r.url)).map((r) => `${r.method} ${pathOf(r.url)}`).sort();
    expect(inDoc).toEqual(registered);
  });

  it('carries the roles and scoping of the route x role table, and the bearer scheme on every /api operation', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (path.startsWith('/api/')) {
          const access = ROUTE_ACCESS.find((a) => a.method === method.toUpperCase() && pathOf(a.url) === path)!;
          expect(op['x-warden-roles'], path).toEqual([...access.roles]);
          expect(op.description).toContain(access.scoping);
          expect(op.security).toEqual([{ bearerAuth: [] }]);
          expect(op.responses['401']?.['x-warden-codes']).toEqual(expect.arrayContaining(['auth.required', 'auth.invalid_token']));
          expect(op.responses['403']?.['x-warden-codes']).toContain('auth.forbidden');
          for (const s of ['400', '429', '500', '503']) expect(documented(doc, method, path, s).properties).toHaveProperty('error');
        } else {
          expect(op.security).toEqual([]);
          expect(op['x-warden-roles']).toBeUndefined();
        }
      }
    }
    // Path parameters become `{name}`, and a route with one may answer 404.
    const deadLetters = doc.paths['/api/v1/audit/destinations/{name}/dead-letters']!.get!;
    expect(deadLetters.parameters).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
    expect(deadLetters.responses['404']?.['x-warden-codes']).toContain('audit.destination_not_found');
    expect(doc.paths['/api/v1/audit/events']!.get!.parameters!.find((p) => p.name === 'limit')).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', maximum: 1000 } });
    expect(doc.paths['/api/v1/decide']!.post!.requestBody?.content['application/json']?.schema).toMatchObject({ type: 'object' });
  });

  it('holds plain JSON Schema 2020-12: every schema compiles strictly, no TypeBox symbols', () => {
    const text = JSON.stringify(doc);
    expect(JSON.parse(text)).toEqual(doc);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        for (const p of op.parameters ?? []) expect(() => ajv().compile(p.schema), `${path} ${p.name}`).not.toThrow();
        const body = op.requestBody?.content['application/json']?.schema;
        if (body) expect(() => ajv().compile(body), path).not.toThrow();
        for (const [status, r] of Object.entries(op.responses)) {
          const s = r.content?.['application/json']?.schema;
          if (s && !s.$ref) expect(() => ajv().compile(s), `${path} ${status}`).not.toThrow();
        }
      }
    }
    expect(() => ajv().compile(doc.components.schemas.WireError!)).not.toThrow();
  });

  it('is built once: every fetch returns the same text', async () => {
    const again = await app.inject({ url: '/api/openapi.json' });
    expect(again.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(again.body).toBe(JSON.stringify(doc));
  });
});

describe('the bodies the API really returns match the documented schemas and lose no field', () => {
  let eventId: string;

  beforeAll(async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/decide', payload: { kind: 'tool.call', scope: 'acme/p1', agent: { id: 'agent-1' }, tool: { server: 'fs', name: 'fs.read' }, args: { path: '/tmp/x' } } });
    expect(res.statusCode).toBe(200);
    eventId = res.json().auditEventId;
    // A cursor with every optional field set, and one dead letter, straight through the core's store.
    const d = api.core.delivery;
    expect(await d.claim('siem', 'default', 'test', 60_000)).toBeDefined();
    await d.advance('siem', 'default', 'test', 1, 1);
    await d.deadLetter('siem', 'default', 'test', 2, eventId, 'HTTP 500 from the receiver', 3);
    await d.fail('siem', 'default', 'test', 'connect ECONNREFUSED', 2, new Date('2030-01-01T00:00:00Z'));
  });

  it('POST /api/v1/decide', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/decide', payload: { kind: 'tool.call', scope: 'acme/p1', agent: { id: 'agent-1' }, tool: { server: 'shell', name: 'shell.run' } } });
    expect(res.json()).toMatchObject({ effect: 'deny' });
    expectValid(documented(doc, 'post', '/api/v1/decide', '200'), res.json());
  });

  it('GET /api/v1/audit/events', async () => {
    const res = await app.inject({ url: '/api/v1/audit/events?limit=5' });
    expect(res.json().events.length).toBeGreaterThan(0);
    expectValid(documented(doc, 'get', '/api/v1/audit/events', '200'), res.json());
  });

  it('GET /api/v1/policies', async () => {
    const res = await app.inject({ url: '/api/v1/policies' });
    const { entities, ...status } = res.json();
    expect(status).toEqual(JSON.parse(JSON.stringify(api.core.policies.status())));
    // The file the suite serves is listed as a read-only entity (managed policies: issue 13).
    expect(entities).toEqual([expect.objectContaining({ name: 'p', source: 'file', activeVersion: null })]);
    expect(res.json().policies).toEqual([expect.objectContaining({ name: 'baseline', version: 3, mode: 'enforce', rules: 2 })]);
    expectValid(documented(doc, 'get', '/api/v1/policies', '200'), res.json());
  });

  it('GET /api/v1/audit/destinations and its dead letters', async () => {
    const status = await app.inject({ url: '/api/v1/audit/destinations' });
    // Each cursor with the head of its tenant's chain, for the lag.
    const head = (await api.core.auditLog.head('default')).seq;
    expect(status.json()).toEqual({ destinations: JSON.parse(JSON.stringify(await api.core.delivery.status())).map((s: object) => ({ ...s, head })) });
    expect(status.json().destinations[0]).toMatchObject({ destination: 'siem', cursorSeq: 2, dead: 1, delivered: 1, lastError: 'connect ECONNREFUSED', nextAttempt: '2030-01-01T00:00:00.000Z' });
    expect(status.json().destinations[0].lastSuccess).toEqual(expect.any(String));
    expectValid(documented(doc, 'get', '/api/v1/audit/destinations', '200'), status.json());
    const dead = await app.inject({ url: '/api/v1/audit/destinations/siem/dead-letters' });
    expect(dead.json()).toEqual({ deadLetters: JSON.parse(JSON.stringify(await api.core.delivery.deadLetters('siem', 1000))) });
    expect(dead.json().deadLetters).toEqual([expect.objectContaining({ seq: 2, eventId, error: 'HTTP 500 from the receiver', attempts: 3 })]);
    expectValid(documented(doc, 'get', '/api/v1/audit/destinations/{name}/dead-letters', '200'), dead.json());
  });

  it('POST /api/v1/audit/destinations/{name}/replay', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/audit/destinations/siem/replay', payload: { fromSeq: 1 } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ destination: 'siem', tenantId: 'default', fromSeq: 1 });
    expectValid(documented(doc, 'post', '/api/v1/audit/destinations/{name}/replay', '202'), res.json());
  });

  it('/healthz and /readyz, the checks keeping their own fields', async () => {
    const health = await app.inject({ url: '/healthz' });
    expect(health.json()).toEqual({ status: 'ok' });
    expectValid(documented(doc, 'get', '/healthz', '200'), health.json());
    const ready = await app.inject({ url: '/readyz' });
    const s = api.core.policies.status();
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: { ok: true, detail: `${api.core.database.dialect}, writable` }, policies: { ok: true, detail: `serving ${s.version}`, version: s.version, loadedAt: s.loadedAt } } });
    expectValid(documented(doc, 'get', '/readyz', '200'), ready.json());
  });

  it('error bodies: 400, 404 and the unknown route', async () => {
    const bad = await app.inject({ url: '/api/v1/audit/events?limit=0' });
    expect(bad.statusCode).toBe(400);
    expectValid(documented(doc, 'get', '/api/v1/audit/events', '400'), bad.json());
    const missing = await app.inject({ url: '/api/v1/audit/destinations/nowhere/dead-letters' });
    expect(missing.statusCode).toBe(404);
    expect(doc.paths['/api/v1/audit/destinations/{name}/dead-letters']!.get!.responses['404']!['x-warden-codes']).toContain(missing.json().error.code);
    expectValid(documented(doc, 'get', '/api/v1/audit/destinations/{name}/dead-letters', '404'), missing.json());
    const invalid = await app.inject({ method: 'POST', url: '/api/v1/decide', payload: { kind: 'nope' } });
    expect(doc.paths['/api/v1/decide']!.post!.responses['400']!['x-warden-codes']).toContain(invalid.json().error.code);
    expectValid(documented(doc, 'post', '/api/v1/decide', '400'), invalid.json());
  });

  it('a policy set whose files broke, and a failing readiness check with fields of its own (503)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-openapi-'));
    writeFileSync(join(dir, 'p.yaml'), POLICY);
    const watcher = await openPolicies([dir], { watch: false, logger: pino({ level: 'silent' }) });
    writeFileSync(join(dir, 'p.yaml'), 'kind: [unclosed');
    expect(await watcher.reload()).toBe(false);
    const detail = { lastError: { at: '2030-01-01T00:00:00.000Z', messages: ['x'] }, lag: 12, nested: { a: [1, null] } };
    const second = withHeaders(buildApp({ checkpoint: api.core.checkpoint, audit: api.core.auditLog, events: api.core.audit, identity: api.core.identity, clock: api.core.clock, policyStatus: () => watcher.status(), readiness: { queue: async () => ({ ok: false, detail: 'behind', ...detail }) } }), api.auth('owner'));
    try {
      const status = await second.inject({ url: '/api/v1/policies' });
      expect(status.json().lastError).toEqual({ at: expect.any(String), messages: [expect.stringContaining('p.yaml')] });
      expect(status.json()).toEqual(JSON.parse(JSON.stringify(watcher.status())));
      expectValid(documented(doc, 'get', '/api/v1/policies', '200'), status.json());
      const ready = await second.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not_ready', checks: { queue: { ok: false, detail: 'behind', ...detail } } });
      expectValid(documented(doc, 'get', '/readyz', '503'), ready.json());
    } finally {
      watcher.close();
      await second.close();
    }
  });
});

describe('the reference page', () => {
  it('renders every operation in a self-contained page under a strict CSP', async () => {
    const res = await app.inject({ url: '/docs/api' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(REFERENCE_PAGE_CSP);
    expect(REFERENCE_PAGE_CSP).toMatch(/^default-src 'none';/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const html = res.body;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(html).toContain(`<article id="${op.operationId}"><h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>`);
        for (const role of op['x-warden-roles'] ?? []) expect(html).toContain(`<code>${role}</code>`);
        for (const p of op.parameters ?? []) expect(html).toContain(`<td><code>${p.name}</code></td><td>${p.in}</td>`);
      }
    }
    expect(html).toContain('<code>auth.forbidden</code>');
    expect(html).toContain('<code>cursorSeq</code>');
    // Nothing from elsewhere: no script, no external stylesheet, font or image.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|url\(|@import|https?:\/\//i);
    expect((await app.inject({ url: '/docs/api' })).body).toBe(html);
  });

  it('escapes every text it shows', () => {
    const hostile = '<script>alert(1)</script>"\'&';
    const routes = [{ method: 'GET', url: '/api/v1/policies', schema: { summary: hostile, querystring: Type.Object({ q: Type.Optional(Type.String({ description: hostile, pattern: hostile })) }), response: { 200: Type.Object({ [hostile]: Type.String({ description: hostile }) }) } } }];
    const html = referencePage(openApiDocument(routes, { version: hostile, access: [{ method: 'GET', url: '/api/v1/policies', roles: ['admin'], scoping: hostile }] }));
    expect(html).not.toContain('<script');
    expect(html).not.toContain('"\'&');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;');
  });
});

describe('the check fails on a route it cannot document', () => {
  it('names a route with no schema, path parameters with no schema, and a route missing from the role table', async () => {
    const bare = Fastify();
    const routes = collectRoutes(bare);
    bare.get('/api/v1/whoami', async () => ({ you: 'x' }));
    bare.get('/api/v1/tokens/:id', { schema: { response: { 200: Type.Object({ id: Type.String() }) } } }, async () => ({ id: 'x' }));
    bare.get('/api/v1/nobody', { schema: { response: { 200: Type.Object({}) } } }, async () => ({}));
    bare.put('/api/v1/scopes/*', { schema: { params: Type.Object({ '*': Type.String({ description: 'the scope path' }) }), response: { 200: Type.Object({}) } } }, async () => ({}));
    await bare.ready();
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /api/v1/whoami', 'GET /api/v1/tokens/:id', 'GET /api/v1/nobody', 'PUT /api/v1/scopes/*']);
    expect(routeProblems(routes, ROUTE_ACCESS)).toEqual([
      '`GET /api/v1/whoami` has no response schema for its success status',
      '`GET /api/v1/tokens/:id` has no schema for its path parameters',
      '`GET /api/v1/tokens/:id` is not in the route x role table (ROUTE_ACCESS)',
      '`GET /api/v1/nobody` is not in the route x role table (ROUTE_ACCESS)',
    ]);
    // Even so the document stays valid: the path parameter is declared as a string, the wildcard is `{path}`.
    const d = openApiDocument(routes, { version: '0', access: ROUTE_ACCESS });
    expect(d.paths['/api/v1/tokens/{id}']!.get!.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(d.paths['/api/v1/scopes/{path}']!.put!.parameters).toEqual([{ name: 'path', in: 'path', required: true, description: 'the scope path', schema: { type: 'string' } }]);
    expect((await new Validator().validate(d as unknown as Record<string, unknown>)).valid).toBe(true);
    await bare.close();
  });

  it('collectedRoutes refuses an app that never collected', () => {
    expect(() => collectedRoutes(Fastify())).toThrow();
  });
});
