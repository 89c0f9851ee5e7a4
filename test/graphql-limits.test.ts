import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, getIntrospectionQuery, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCost } from '../src/api/graphql/cost.js';
import { COST_MODEL, GRAPHQL_LIMITS } from '../src/api/graphql/route.js';
import { SCHEMA } from '../src/api/graphql/schema.js';
import type { Role } from '../src/identity/index.js';
import { apiCore, type ApiUnderTest } from './support/api-core.js';

// The limits of /api/graphql: a query too deep, too costly or too long is refused whole, with
// `request.query_too_complex`, before any field runs (a field that ran would leave its gate's trace).

let api: ApiUnderTest;
beforeAll(async () => {
  api = await apiCore('apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n');
});
afterAll(() => api?.close());

type Answer = { data?: Record<string, unknown> | null; errors?: { message: string; extensions: { code: string; help?: string } }[]; error?: { code: string } };
const gql = async (role: Role, query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
  const r = await api.app.inject({ method: 'POST', url: '/api/graphql', headers: { ...api.auth(role), 'content-type': 'application/json' }, payload: { query, ...(variables ? { variables } : {}), ...extra } });
  return { status: r.statusCode, body: r.json() as Answer };
};
const denials = async () => {
  await api.core.flush();
  return (await api.core.auditLog.list({ type: 'auth.route.denied', limit: 1000 })).events.length;
};
/** Every field of an audit event: the most a page can ask for. */
const EVENT = '{ id schemaVersion time loggedAt tenantId scope category type severity outcome actor onBehalfOf agent target action decision findings payload latencyMs correlationId trace details producer integrity }';

describe('the limits of /api/graphql', () => {
  it("answers graphql-js's standard introspection query", async () => {
    const r = await gql('viewer', getIntrospectionQuery());
    expect(r.status).toBe(200);
    expect((r.body.data?.__schema as { queryType: { name: string } }).queryType.name).toBe('Query');
  });

  it('refuses a query nesting deeper than the limit, before any field runs', async () => {
    const before = await denials();
    let deep = 'name';
    // `__type`, then the ofTypes, then `name`: one level more than the limit.
    for (let i = 0; i < GRAPHQL_LIMITS.depth - 1; i++) deep = `ofType { ${deep} }`;
    // `tokens` would be refused for a viewer, and the refusal audited, had anything run.
    const r = await gql('viewer', `{ tokens { id } __type(name: "Query") { ${deep} } }`);
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'request.query_too_complex' }) })]);
    expect(r.body.data).toBeUndefined();
    expect(await denials()).toBe(before);
    // One level less is answered.
    const ok = await gql('owner', `{ __type(name: "Query") { ${deep.replace(/^ofType \{ (.*) \}$/, '$1')} } }`);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });

  it('refuses a query whose estimated cost is too high, by its literal limits or its variables, before any field runs', async () => {
    const before = await denials();
    const page = (alias: string, limit: string) => `${alias}: auditEvents(limit: ${limit}) { events ${EVENT} nextCursor }`;
    const costly = await gql('viewer', `{ tokens { id } ${page('a', '1000')} ${page('b', '1000')} }`);
    expect(costly.status).toBe(400);
    expect(costly.body.errors?.[0]?.extensions.code).toBe('request.query_too_complex');
    expect(costly.body.errors?.[0]?.message).toMatch(/estimated cost is \d+, above the 50000/);
    const byVariables = `query($n: Int) { tokens { id } ${page('a', '$n')} ${page('b', '$n')} }`;
    expect((await gql('viewer', byVariables, { n: 1000 })).body.errors?.[0]?.extensions.code).toBe('request.query_too_complex');
    expect(await denials()).toBe(before);
    // The same shape with small pages runs (and the viewer's refusals are its own business).
    const small = await gql('owner', byVariables, { n: 10 });
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
    // One full page of every field fits.
    expect((await gql('owner', `{ ${page('a', '1000')} }`)).status).toBe(200);
  });

  it('refuses a query longer than the token limit', async () => {
    const r = await gql('owner', `{ ${'a '.repeat(GRAPHQL_LIMITS.tokens)} }`);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions.code).toBe('request.query_too_complex');
  });

  it('answers malformed queries, unknown fields, mutations and bad variables with request.invalid', async () => {
    for (const [query, variables] of [['{ tokens { id }', undefined], ['{ nope }', undefined], ['mutation { tokens { id } }', undefined], ['query($n: Int) { auditEvents(limit: $n) { nextCursor } }', { n: 'many' }]] as const) {
      const r = await gql('owner', query, variables);
      expect(r.status, query).toBe(400);
      expect(r.body.errors?.[0]?.extensions.code, query).toBe('request.invalid');
    }
    // NUL reaches no lookup, as REST's input guard.
    const nul = await gql('owner', '{ policy(name: "a\\u0000b") { name } }');
    expect(nul.body.errors?.[0]?.extensions.code).toBe('request.invalid');
  });

  it('is an HTTP API like the rest: a body without a query is 400 in the API error shape, GET is not served, no token is 401', async () => {
    const empty = await api.app.inject({ method: 'POST', url: '/api/graphql', headers: { ...api.auth('viewer'), 'content-type': 'application/json' }, payload: {} });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ error: { code: 'request.invalid' } });
    expect((await api.app.inject({ method: 'GET', url: '/api/graphql?query={tokens{id}}', headers: api.auth('owner') })).statusCode).toBe(404);
    expect((await api.app.inject({ method: 'POST', url: '/api/graphql', headers: { 'content-type': 'application/json' }, payload: { query: '{ tokens { id } }' } })).statusCode).toBe(401);
    // The gate: a machine role that may call none of the reads GraphQL answers.
    const agent = await gql('agent', '{ servers { name } }');
    expect(agent.status).toBe(403);
    expect(agent.body.error?.code).toBe('auth.forbidden');
  });
});

describe('the cost estimate', () => {
  const schema = buildSchema(SCHEMA);
  const cost = (q: string, variables?: Record<string, unknown>, operationName?: string) => queryCost(schema, parse(q), variables, operationName, COST_MODEL);

  it('counts each field once, times the length of every list above it', () => {
    expect(cost('{ tokens { id name } }')).toBe(20 * 3);
    expect(cost('{ servers { name tools { name } } }')).toBe(20 * (1 + 1 + 20 * 2));
    expect(cost('{ auditEvents(limit: 7) { events { id } nextCursor } }')).toBe(7 * (1 + 2 + 1));
    expect(cost('{ auditEvents { events { id } } }')).toBe(100 * (1 + 2));
    expect(cost('query($n: Int) { auditEvents(limit: $n) { events { id } } }', { n: 3 })).toBe(3 * 3);
  });

  it('follows fragments and inline fragments, and costs only the operation asked for', () => {
    const direct = cost('{ servers { name tools { name risk } } }');
    expect(cost('fragment T on Tool { name risk } fragment S on Server { name tools { ...T } } { servers { ...S } }')).toBe(direct);
    expect(cost('{ servers { ... on Server { name tools { name risk } } } }')).toBe(direct);
    expect(cost('query A { tokens { id } } query B { servers { name tools { name risk } } }', undefined, 'A')).toBe(40);
  });

  it('prices the standard introspection query well under the limit', () => {
    expect(cost(getIntrospectionQuery())).toBeLessThan(GRAPHQL_LIMITS.cost / 4);
  });
});

describe('docs/graphql.md', () => {
  const page = readFileSync(join(import.meta.dirname, '..', 'docs', 'graphql.md'), 'utf8');

  it('holds the schema as the server serves it, and the limits in force', () => {
    expect(page).toContain(`\`\`\`graphql\n${SCHEMA.replace(/^\n+|\n+$/g, '')}\n\`\`\``);
    expect(page).toContain(`| depth | ${GRAPHQL_LIMITS.depth} |`);
    expect(page).toContain(`| cost | ${GRAPHQL_LIMITS.cost.toLocaleString('en-US')} |`);
    expect(page).toContain(`| tokens | ${GRAPHQL_LIMITS.tokens.toLocaleString('en-US')} |`);
    expect(page).toContain(`| query text | ${GRAPHQL_LIMITS.queryLength.toLocaleString('en-US')} characters |`);
  });

  it('gives an example the server answers', async () => {
    const payload = /-d '([^']+)'/.exec(page)?.[1];
    expect(payload).toBeDefined();
    const r = await api.app.inject({ method: 'POST', url: '/api/graphql', headers: { ...api.auth('owner'), 'content-type': 'application/json' }, payload: payload! });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().data.auditEvents).toMatchObject({ events: expect.any(Array) });
  });
});
