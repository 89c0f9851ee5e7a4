import { buildSchema, getNamedType, isCompositeType, isObjectType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA } from '../src/api/graphql/schema.js';
import type { Role } from '../src/identity/index.js';
import { apiCore, operator, roleTokens, type ApiUnderTest } from './support/api-core.js';

// Issue 13 item 7: GraphQL over the same services and the same authorization as REST. Every question
// here is asked both ways, by several roles and by another tenant, and the answers must be equal (a
// field REST leaves out is null in GraphQL, so nulls are dropped on both sides before comparing).

const FILES = 'apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n';
const NO_SHELL = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: no-shell, scope: acme }
spec:
  rules:
    - name: deny-shell
      match: { tools: ["shell.*"] }
      effect: deny
`;
const NO_SHELL_2 = `${NO_SHELL}    - name: deny-deploy
      match: { tools: ["deploy.*"] }
      effect: deny
`;

const schema: GraphQLSchema = buildSchema(SCHEMA);

/** Every field of a type that takes no argument, objects expanded except those listed out. */
function all(typeName: string, skip: readonly string[] = []): string {
  const t = schema.getType(typeName);
  if (!isObjectType(t)) throw new Error(typeName);
  return `{ ${Object.values(t.getFields())
    .filter((f) => f.args.length === 0 && !skip.includes(f.name))
    .map((f) => (isCompositeType(getNamedType(f.type)) ? `${f.name} ${all(getNamedType(f.type).name, skip)}` : f.name))
    .join(' ')} }`;
}
const POLICY = all('Policy', ['active', 'versions']);
const VERSION = all('PolicyVersion');

/** The value with every null (and every key holding one) removed, recursively. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
}

let api: ApiUnderTest;
let other: Record<Role, string>;
/** Tokens beyond one per role: a reader held at one scope only. */
const scoped: Record<string, string> = {};

beforeAll(async () => {
  api = await apiCore(FILES, { capture: { args: true, results: true } });
  const { app } = api;
  const as = (role: Role) => api.auth(role);
  const put = (source: string, ifMatch: Record<string, string>) => app.inject({ method: 'PUT', url: '/api/v1/policies/no-shell', headers: { ...as('policy_author'), 'content-type': 'application/yaml', ...ifMatch }, payload: source });
  const post = (url: string, role: Role) => app.inject({ method: 'POST', url, headers: as(role) });
  expect((await put(NO_SHELL, { 'if-none-match': '*' })).statusCode).toBe(201);
  await post('/api/v1/policies/no-shell/versions/1/submit', 'policy_author');
  expect((await app.inject({ method: 'POST', url: '/api/v1/policies/no-shell/versions/1/approve', headers: { ...as('admin'), 'content-type': 'application/json' }, payload: { comment: 'reviewed' } })).statusCode).toBe(200);
  expect((await post('/api/v1/policies/no-shell/versions/1/activate', 'policy_author')).statusCode).toBe(200);
  expect((await put(NO_SHELL_2, { 'if-match': '"1"' })).statusCode).toBe(201);
  // Decisions with captured bodies, at two scopes.
  for (const [scope, tool] of [['acme/p1', 'shell.run'], ['acme/p2', 'files.read'], ['acme/p1', 'files.read']] as const) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/decide', headers: as('enforcer'), payload: { kind: 'tool.call', scope, agent: { id: 'agent-1' }, tool: { server: 'ops', name: tool }, args: { secretish: 'body' } } });
    expect(r.statusCode, r.body).toBe(200);
  }
  const registry = api.core.registry.forTenant('default');
  await registry.discover({ name: 'ops', scope: 'acme/p1' }, [{ name: 'shell.run', description: 'runs', inputSchema: { type: 'object' } }]);
  await registry.discover({ name: 'docs', scope: 'acme/p2' }, [{ name: 'files.read', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }]);
  expect((await post('/api/v1/registry/agents/agent-1/suspend', 'admin')).statusCode).toBe(200);
  for (const [name, role, scope] of [['auditor-p1', 'auditor', 'acme/p1'], ['viewer-p2', 'viewer', 'acme/p2'], ['admin-p1', 'admin', 'acme/p1']] as const) {
    scoped[name] = (await api.core.identity.createToken(operator(), { name, role, scope })).token;
  }
  await api.core.identity.createTenant(undefined, { id: 'globex', name: 'Globex' });
  other = await roleTokens(api.core, 'globex');
  await api.core.flush();
});
afterAll(() => api?.close());

type Who = Role | `other:${Role}` | `scoped:${string}`;
const bearer = (who: Who) => {
  const token = who.startsWith('other:') ? other[who.slice(6) as Role] : who.startsWith('scoped:') ? scoped[who.slice(7)] : api.tokens[who as Role];
  return { authorization: `Bearer ${token}` };
};

const rest = async (who: Who, url: string) => {
  const r = await api.app.inject({ method: 'GET', url, headers: bearer(who) });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
};
const gql = async (who: Who, query: string, variables?: Record<string, unknown>) => {
  const r = await api.app.inject({ method: 'POST', url: '/api/graphql', headers: { ...bearer(who), 'content-type': 'application/json' }, payload: { query, ...(variables ? { variables } : {}) } });
  return { status: r.statusCode, body: r.json() as { data?: Record<string, unknown> | null; errors?: { message: string; path?: string[]; extensions: { code: string; help?: string; issues?: unknown } }[] } };
};

/**
 * One question both ways: the REST answer (picked by `pick`) equals GraphQL's `field`; a REST error
 * is the same code and message as GraphQL's error on that field (its data null).
 */
async function same(who: Who, url: string, query: string, field: string, pick: (body: Record<string, unknown>) => unknown = (b) => b, variables?: Record<string, unknown>) {
  const [r, g] = await Promise.all([rest(who, url), gql(who, query, variables)]);
  expect(g.status, JSON.stringify(g.body).slice(0, 300)).toBe(200);
  if (r.status === 200) {
    expect(g.body.errors, `${who} ${field}`).toBeUndefined();
    expect(dropNulls(g.body.data?.[field]), `${who} ${field}`).toEqual(dropNulls(pick(r.body)));
    return { rest: pick(r.body), graphql: g.body.data?.[field] };
  }
  const error = (r.body as { error: { code: string; message: string } }).error;
  expect(g.body.data?.[field] ?? null).toBeNull();
  expect(g.body.errors?.map((e) => [e.path, e.extensions.code, e.message]), `${who} ${field}`).toEqual([[[field], error.code, error.message]]);
  return { rest: error, graphql: g.body.errors?.[0] };
}

const PEOPLE_AND_OTHERS: Who[] = ['owner', 'viewer', 'analyst', 'auditor', 'policy_author', 'scoped:viewer-p2', 'other:owner', 'other:viewer'];

describe('the same questions through REST and GraphQL get the same answers', () => {
  it('the policies the caller may read', async () => {
    for (const who of [...PEOPLE_AND_OTHERS, 'enforcer' as const]) {
      const { graphql } = await same(who, '/api/v1/policies', `{ policies ${POLICY} }`, 'policies', (b) => b.entities ?? []);
      if (who === 'owner') expect((graphql as { name: string }[]).map((p) => p.name)).toContain('no-shell');
      if (who.startsWith('other:')) expect((graphql as { name: string }[]).map((p) => p.name)).not.toContain('no-shell');
    }
  });

  it('one policy with its active version, its versions, one version and a diff', async () => {
    for (const who of PEOPLE_AND_OTHERS) {
      await same(who, '/api/v1/policies/no-shell', `{ policy(name: "no-shell") { ${POLICY.slice(1, -1)} active ${VERSION} } }`, 'policy', (b) => {
        const { policy, active } = b as { policy: object; active: object | null };
        return { ...policy, active };
      });
      await same(who, '/api/v1/policies/no-shell/versions', `{ policy(name: "no-shell") { versions ${VERSION} } }`, 'policy', (b) => ({ versions: b.versions }));
      await same(who, '/api/v1/policies/no-shell/versions/2', `{ policy(name: "no-shell") { version(number: 2) ${VERSION} } }`, 'policy', (b) => ({ version: b }));
      await same(who, '/api/v1/policies/no-shell/diff?from=1&to=2', `{ policy(name: "no-shell") { diff(from: 1, to: 2) ${all('PolicyDiff')} } }`, 'policy', (b) => ({ diff: b }));
    }
    // Another tenant's owner: not found, in the same words.
    const { rest: refused } = await same('other:owner', '/api/v1/policies/no-shell', '{ policy(name: "no-shell") { name } }', 'policy');
    expect(refused).toMatchObject({ code: 'policy.not_found' });
    const missing = await gql('owner', '{ policy(name: "no-shell") { version(number: 9) { number } } }');
    expect(missing.body.errors?.[0]?.extensions.code).toBe('policy.not_found');
    expect((await rest('owner', '/api/v1/policies/no-shell/versions/9')).body).toMatchObject({ error: { code: 'policy.not_found', message: missing.body.errors?.[0]?.message } });
  });

  it('audit events: the same filters, the same pages and cursors, bodies hidden from an analyst', async () => {
    const EVENT = all('AuditEvent');
    const query = `query($category: String, $type: String, $scope: String, $tool: String, $limit: Int, $cursor: String, $q: String) {
      auditEvents(category: $category, type: $type, scope: $scope, tool: $tool, limit: $limit, cursor: $cursor, q: $q) { events ${EVENT} nextCursor } }`;
    const filters: Record<string, string | number>[] = [{}, { category: 'decision' }, { category: 'decision', limit: 2 }, { scope: 'acme/p1' }, { tool: 'files.read' }, { type: 'policy.version.created' }, { q: 'secretish' }];
    for (const who of ['owner', 'auditor', 'analyst', 'scoped:auditor-p1', 'other:owner', 'other:auditor'] as const) {
      for (const f of filters) {
        const url = `/api/v1/audit/events?${new URLSearchParams(Object.entries(f).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
        const { rest: page } = await same(who, url, query, 'auditEvents', (b) => b, f);
        const { events, nextCursor } = page as { events: { tenantId: string; scope: string; payload?: { args?: unknown } }[]; nextCursor: string | null };
        if (who.startsWith('other:')) expect(events.every((e) => e.tenantId === 'globex')).toBe(true);
        if (who === 'scoped:auditor-p1') expect(events.every((e) => e.scope === 'acme/p1' || e.scope.startsWith('acme/p1/'))).toBe(true);
        if (who === 'analyst') expect(events.some((e) => e.payload?.args !== undefined)).toBe(false);
        if (who === 'owner' && f.category === 'decision' && !f.limit) expect(events.some((e) => e.payload?.args !== undefined)).toBe(true);
        // The next page, with REST's cursor, both ways.
        if (nextCursor) await same(who, `${url}&cursor=${encodeURIComponent(nextCursor)}`, query, 'auditEvents', (b) => b, { ...f, cursor: nextCursor });
      }
    }
  });

  it('audit events: refused for a role that may not read them, and for a bad filter or cursor, with the same code', async () => {
    for (const who of ['viewer', 'policy_author', 'approver', 'other:viewer'] as const) {
      const { rest: refused } = await same(who, '/api/v1/audit/events', '{ auditEvents { nextCursor } }', 'auditEvents');
      expect(refused).toMatchObject({ code: 'auth.forbidden' });
    }
    const bad = await rest('owner', '/api/v1/audit/events?from=yesterday');
    const g = await gql('owner', '{ auditEvents(from: "yesterday") { nextCursor } }');
    expect(bad.body).toMatchObject({ error: { code: 'request.invalid' } });
    expect(g.body.errors?.[0]?.extensions).toMatchObject({ code: 'request.invalid', issues: (bad.body.error as { issues: unknown }).issues });
    const badCursor = await rest('owner', '/api/v1/audit/events?cursor=nope');
    const gCursor = await gql('owner', '{ auditEvents(cursor: "nope") { nextCursor } }');
    expect(badCursor.body).toMatchObject({ error: { code: 'audit.cursor_invalid' } });
    expect(gCursor.body.errors?.[0]?.extensions.code).toBe('audit.cursor_invalid');
    expect((await gql('owner', '{ auditEvents(limit: 1001) { nextCursor } }')).body.errors?.[0]?.extensions.code).toBe('request.invalid');
  });

  it('the registry: servers, one server, tools, one tool, agents', async () => {
    const SERVER = all('Server', ['tools']);
    const TOOL = all('Tool');
    for (const who of [...PEOPLE_AND_OTHERS, 'scoped:admin-p1' as const]) {
      const { graphql: servers } = await same(who, '/api/v1/registry/servers', `{ servers ${SERVER} }`, 'servers', (b) => b.servers);
      expect((servers as unknown[]).length, who).toBe(who.startsWith('other:') ? 0 : who === 'scoped:viewer-p2' || who === 'scoped:admin-p1' ? 1 : 2);
      await same(who, '/api/v1/registry/servers/ops', `{ server(name: "ops") ${SERVER} }`, 'server');
      await same(who, '/api/v1/registry/tools', `{ tools ${TOOL} }`, 'tools', (b) => b.tools);
      await same(who, '/api/v1/registry/tools?server=docs', `{ tools(server: "docs") ${TOOL} }`, 'tools', (b) => b.tools);
      await same(who, '/api/v1/registry/tools/docs/files.read', `{ tool(server: "docs", name: "files.read") ${TOOL} }`, 'tool');
      await same(who, '/api/v1/registry/agents', `{ agents ${all('Agent')} }`, 'agents', (b) => b.agents);
    }
    // A server's tools nested: the same as asking for them by server.
    const nested = await gql('scoped:viewer-p2', `{ servers { name tools ${TOOL} } }`);
    expect(nested.body.data?.servers).toEqual([{ name: 'docs', tools: (await gql('scoped:viewer-p2', `{ tools(server: "docs") ${TOOL} }`)).body.data?.tools }]);
    expect((await same('scoped:viewer-p2', '/api/v1/registry/servers/ops', '{ server(name: "ops") { name } }', 'server')).rest).toMatchObject({ code: 'registry.not_found' });
  });

  it('tokens: the same list for owners and scoped admins, the same refusal for the rest', async () => {
    for (const who of ['owner', 'admin', 'scoped:admin-p1', 'other:owner', 'viewer', 'auditor', 'enforcer', 'other:viewer'] as const) {
      const { rest: answer } = await same(who, '/api/v1/tokens', `{ tokens ${all('Token')} }`, 'tokens', (b) => b.tokens);
      if (['owner', 'admin', 'scoped:admin-p1', 'other:owner'].includes(who)) expect(Array.isArray(answer)).toBe(true);
      else expect(answer).toMatchObject({ code: 'auth.forbidden' });
      if (who === 'other:owner') expect((answer as { tenantId: string }[]).every((t) => t.tenantId === 'globex')).toBe(true);
    }
  });

  it('a refusal by a field is audited as the route gate audits it, and leaves the other fields answered', async () => {
    const before = (await api.core.auditLog.list({ type: 'auth.route.denied', limit: 1000 })).events.length;
    const g = await gql('viewer', '{ tokens { id } servers { name } }');
    expect(g.body.data).toMatchObject({ tokens: null, servers: expect.any(Array) });
    expect(g.body.errors?.map((e) => e.extensions.code)).toEqual(['auth.forbidden']);
    await api.core.flush();
    const denied = (await api.core.auditLog.list({ type: 'auth.route.denied', limit: 1000 })).events;
    expect(denied.length).toBe(before + 1);
    expect(denied[0]).toMatchObject({ outcome: 'denied', actor: { name: 'test-viewer' }, target: { kind: 'route', name: 'GET /api/v1/tokens' }, details: { graphqlField: 'Query.tokens' } });
  });
});
