import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { apiCore, authed, type ApiUnderTest } from './support/api-core.js';

// Hostile input over REST (issue 11, items 8, 12 and 15): every input here was a 500, an
// imprecise 400 or a leak before. Each must be a 400 naming where the problem sits, and the
// request log keeps neither query values nor routine requests at `info`.

const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: deny }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: baseline, scope: acme }
spec:
  rules:
    - { name: reads, effect: allow, match: { tools: ["*.read*"] } }
`;

/** Log lines as pino wrote them. */
const lines: Array<Record<string, unknown>> = [];
let api: ApiUnderTest;
let app: FastifyInstance;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  api = await apiCore(POLICY, { logger: pino({ level: 'debug' }, sink) });
  app = authed(api);
});
afterAll(() => api?.close());

const HEAD = '{"kind":"tool.call","scope":"acme/p","agent":{"id":"a"},"tool":{"server":"files","name":"files.read"}';
const decideRaw = (body: string) => app.inject({ method: 'POST', url: '/api/v1/decide', headers: { 'content-type': 'application/json' }, payload: body });
const replayRaw = (body: string) => app.inject({ method: 'POST', url: '/api/v1/audit/destinations/siem/replay', headers: { 'content-type': 'application/json' }, payload: body });

describe('hostile bodies are 400s that say where the problem is', () => {
  it.each([
    ['JSON nested 3,000 deep', `${HEAD},"args":{"x":${'['.repeat(3000)}${']'.repeat(3000)}}}`, 'the request body nests deeper than 64 levels of objects and arrays'],
    ['an unpaired surrogate in arguments', `${HEAD},"args":{"x":"a\\ud800b"}}`, 'the request body is invalid: `/args/x` contains an unpaired UTF-16 surrogate; send well-formed Unicode text'],
    ['an unpaired surrogate in a key', `${HEAD},"args":{"\\udc00":1}}`, 'the request body is invalid: `/args/\uFFFD` is a key with an unpaired UTF-16 surrogate; send well-formed Unicode text'],
    ['1e999', `${HEAD},"args":{"n":1e999}}`, 'the request body is invalid: `/args/n` must be a finite number (a literal such as `1e999` overflows to infinity)'],
    ['a __proto__ key', `${HEAD},"args":{"__proto__":{"admin":true}}}`, 'the request body is invalid: `/args` has a `__proto__` key, which Warden refuses because it can rewrite object prototypes'],
  ])('decide: %s', async (_what, body, message) => {
    const res = await decideRaw(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'request.invalid', message });
  });

  it('decide: a NUL in an identifier is an invalid action, not a database error', async () => {
    for (const [field, body] of [
      ['/agent/id', HEAD.replace('"id":"a"', '"id":"a\\u0000"')],
      ['/tool/name', HEAD.replace('"name":"files.read"', '"name":"files.read\\u0000"')],
      ['/tool/server', HEAD.replace('"server":"files"', '"server":"\\u0000"')],
    ] as const) {
      const res = await decideRaw(`${body}}`);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error.code).toBe('action.invalid');
      expect(res.json().error.issues).toEqual([{ path: field, message: 'must not contain a NUL character (U+0000)' }]);
    }
  });

  it.each([
    ['fromSeq 1e300', '{"fromSeq":1e300}', '`/fromSeq` must be <= 9007199254740991'],
    ['fromSeq 2^63', '{"fromSeq":9223372036854775808}', '`/fromSeq` must be <= 9007199254740991'],
    ['fromSeq 1e999', '{"fromSeq":1e999}', '`/fromSeq` must be a finite number'],
    ['a NUL tenant id', '{"fromSeq":1,"tenantId":"t\\u0000"}', '`/tenantId` must not contain a NUL character (U+0000)'],
  ])('replay: %s', async (_what, body, message) => {
    const res = await replayRaw(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('request.invalid');
    expect(res.json().error.message).toContain(message);
  });

  it('answers a 400 of 400 unknown fields with long names in bounded size', async () => {
    const fields = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`${String(i).padStart(3, '0')}${'k'.repeat(2000)}`, 1]));
    const res = await app.inject({ method: 'POST', url: '/api/v1/audit/destinations/siem/replay', payload: { fromSeq: 1, ...fields } });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.issues).toHaveLength(21);
    expect(error.issues[20]).toEqual({ path: '/', message: 'and 380 more problems' });
    expect(error.issues[0].message).toBe(`unknown field \`000${'k'.repeat(37)}…\``);
    expect(res.body.length).toBeLessThan(4000);
  });
});

describe('hostile query strings are 400s', () => {
  it.each([
    ['q=%00', '`/q` must not contain a NUL character (U+0000)'],
    ['agent=%00', '`/agent` must not contain a NUL character (U+0000)'],
    ['tool=a%00b', '`/tool` must not contain a NUL character (U+0000)'],
    ['scope=acme%00', '`/scope` must not contain a NUL character (U+0000)'],
    ['from=0000-01-01T00:00:00Z', '`/from` must be an RFC 3339 time from year 0001 to 9999'],
    ['to=0000-12-31T23:00:00Z', '`/to` must be an RFC 3339 time from year 0001 to 9999'],
    ['from=2026-06-30T23:59:60Z', '`/from` must be an RFC 3339 time from year 0001 to 9999'],
  ])('%s', async (q, message) => {
    const res = await app.inject({ url: `/api/v1/audit/events?${q}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('request.invalid');
    expect(res.json().error.message).toContain(message);
  });

  it('still serves the first year and free text', async () => {
    expect((await app.inject({ url: '/api/v1/audit/events?from=0001-01-01T00:00:00Z&q=hello' })).statusCode).toBe(200);
  });
});

describe('request logs', () => {
  it('keep no query value and log a routine request at debug, a failed one at warn', async () => {
    lines.length = 0;
    const token = 'ghp_' + 'Z'.repeat(36);
    expect((await app.inject({ url: `/api/v1/audit/events?q=${token}&limit=5` })).statusCode).toBe(200);
    expect((await app.inject({ url: `/api/v1/audit/events?q=${token}&limit=0` })).statusCode).toBe(400);
    expect(JSON.stringify(lines)).not.toContain(token);
    expect(lines.filter((l) => (l.level as number) >= 30 && (l.level as number) < 40)).toEqual([]);
    const answered = lines.filter((l) => l.msg === 'request answered');
    expect(answered).toEqual([
      expect.objectContaining({ level: 20, method: 'GET', path: '/api/v1/audit/events', query: ['q', 'limit'], status: 200 }),
      expect.objectContaining({ level: 40, method: 'GET', path: '/api/v1/audit/events', query: ['q', 'limit'], status: 400 }),
    ]);
  });
});
