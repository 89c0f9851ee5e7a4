import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCore, authed, type ApiUnderTest } from './support/api-core.js';
import type { FastifyInstance } from 'fastify';

const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: deny }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: baseline, scope: acme, version: 4 }
spec:
  rules:
    - { name: reads, effect: allow, match: { tools: ["*.read*"] } }
    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] }, message: no shell here }
`;

let api: ApiUnderTest;
let app: FastifyInstance;

// The API as `warden serve` builds it: the routes over the one core (in-memory store, these policies).
beforeAll(async () => {
  api = await apiCore(POLICY);
  app = authed(api);
});
afterAll(() => api?.close());

const decide = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/decide', payload: payload as object });
const action = (tool: string, extra: object = {}) => ({ kind: 'tool.call', scope: 'acme/p1', agent: { id: 'agent-1' }, tool: { server: tool.split('.')[0], name: tool }, ...extra });

describe('POST /api/v1/decide', () => {
  it('returns the decision with its explanation in the wire shape', async () => {
    const res = await decide(action('shell.run'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['auditEventId', 'context', 'effect', 'findings', 'obligations', 'policySetVersion', 'reasons', 'warnings']);
    expect(body).toMatchObject({ effect: 'deny', reasons: [{ policy: 'baseline', version: 4, rule: 'no-shell', effect: 'deny', message: 'no shell here' }], warnings: [], findings: [], obligations: [] });
  });

  it('rejects an action that fails validation with 400 and precise issues', async () => {
    const res = await decide({ kind: 'tool.execute', scope: 'acme//x', tool: { server: 's' }, surprise: true });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('action.invalid');
    const paths = error.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['/', '/kind', '/scope', '/tool']);
    expect(error.message).toContain('unknown field `surprise`');
    expect(error.message).toContain('missing required field `name`');
  });

  it('rejects malformed JSON, a wrong content type and an oversized body with 4xx, never 500', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/decide', headers: { 'content-type': 'application/json' }, payload: '{"kind":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('the request body is not valid JSON');
    const text = await app.inject({ method: 'POST', url: '/api/v1/decide', headers: { 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.statusCode).toBe(415);
    const big = await decide(action('files.read', { args: { blob: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(big.statusCode).toBe(413);
    const empty = await app.inject({ method: 'POST', url: '/api/v1/decide', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(400);
    const arr = await decide([1, 2]);
    expect(arr.statusCode).toBe(400);
  });

  it('answers unknown routes with a coded 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('request.not_found');
  });
});

describe('GET /api/v1/audit/events', () => {
  it('lists the events the decisions wrote, filtered and paginated', async () => {
    for (let i = 0; i < 5; i++) await decide(action('files.read', { agent: { id: 'pager' } }));
    await decide(action('shell.run', { agent: { id: 'pager' } }));
    const denies = (await app.inject({ url: '/api/v1/audit/events?agent=pager&effect=deny' })).json();
    expect(denies.events).toHaveLength(1);
    expect(denies.events[0]).toMatchObject({ target: { name: 'shell.run' }, outcome: 'denied', agent: { id: 'pager' }, decision: { effect: 'deny', reasons: [{ rule: 'no-shell' }] }, integrity: { seq: expect.any(Number) } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/audit/events?agent=pager&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await app.inject({ url: q })).json();
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e: { id: string }) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect([...seen].sort().reverse()).toEqual(seen);

    const byTool = (await app.inject({ url: '/api/v1/audit/events?tool=files.read&agent=pager' })).json();
    expect(byTool.events).toHaveLength(5);
    const future = (await app.inject({ url: '/api/v1/audit/events?from=2999-01-01T00:00:00Z' })).json();
    expect(future.events).toEqual([]);
  });

  it('rejects bad filters with 400', async () => {
    for (const q of ['limit=0', 'limit=abc', 'limit=5000', 'effect=maybe', 'from=yesterday', 'cursor=%%%garbage', 'colour=red']) {
      const res = await app.inject({ url: `/api/v1/audit/events?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(['request.invalid', 'audit.cursor_invalid']).toContain(res.json().error.code);
    }
  });
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'ready', checks: { database: { ok: true } } });
  });
});

describe('audit destinations', () => {
  it('replays from a sequence number and shows the cursor', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/audit/destinations/siem/replay', payload: { fromSeq: 3 } });
    expect(res.statusCode).toBe(202);
    const status = (await app.inject({ url: '/api/v1/audit/destinations' })).json();
    expect(status.destinations).toEqual([expect.objectContaining({ destination: 'siem', tenantId: 'default', cursorSeq: 2, attempts: 0 })]);
    expect((await app.inject({ url: '/api/v1/audit/destinations/siem/dead-letters' })).json()).toEqual({ deadLetters: [] });
  });

  it('rejects a bad replay request', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/v1/audit/destinations/siem/replay', payload: { fromSeq: 0 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/audit/destinations/Bad Name/replay', payload: { fromSeq: 1 } })).statusCode).toBe(400);
  });

  it('answers 404 for a destination that is not configured, and moves no cursor', async () => {
    for (const req of [
      { method: 'POST' as const, url: '/api/v1/audit/destinations/nowhere/replay', payload: { fromSeq: 1 } },
      { method: 'GET' as const, url: '/api/v1/audit/destinations/nowhere/dead-letters' },
    ]) {
      const res = await app.inject(req);
      expect(res.statusCode, req.url).toBe(404);
      expect(res.json().error).toEqual({ code: 'audit.destination_not_found', message: 'no streaming destination named `nowhere` is configured', help: 'configured destinations: `siem`' });
    }
    const status = (await app.inject({ url: '/api/v1/audit/destinations' })).json();
    expect(status.destinations.map((d: { destination: string }) => d.destination)).not.toContain('nowhere');
  });
});
