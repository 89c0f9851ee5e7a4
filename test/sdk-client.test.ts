import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, ApprovalRequest } from '../src/domain/index.js';
import { createWardenClient, guardCall, WardenDeniedError, type WardenClientOptions } from '../src/sdk/index.js';
import { operator } from './support/api-core.js';
import { waitFor } from './support/wait-for.js';
import { DSN, startWarden, type RunningWarden } from './support/sdk-warden.js';

// The SDK's decision client against a running Warden (issue 16 item 1): decisions, the local cache
// of allows policy marks reusable, fail-closed behaviour, approvals and outcome reports.
let warden: RunningWarden;
beforeAll(async () => {
  warden = await startWarden();
}, 120_000);
afterAll(() => warden?.close());

const call = (name: string, args?: Record<string, unknown>): Action => ({ kind: 'tool.call', scope: 'acme/app', tool: { server: 'app', name }, ...(args ? { args } : {}) });
// A generous timeout per attempt: a loaded runner can take seconds over a first decision; timeouts are tested on their own below.
const client = (extra: Partial<WardenClientOptions> = {}) => createWardenClient({ url: warden.url, token: warden.agentToken, retries: 0, timeoutMs: 60_000, ...extra });

/** A loopback HTTP server that answers with `handler`; closed by the caller. */
async function fakeHttp(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits: () => hits };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<string> {
  const { url, server } = await fakeHttp((_q, s) => s.end());
  await new Promise((r) => server.close(r));
  return url;
}

describe('decisions', () => {
  it('answers Warden’s decision, typed, with the rule and the audit event id', async () => {
    const d = await client().decide(call('shell.run', { cmd: 'ls' }));
    expect(d).toMatchObject({ effect: 'deny', source: 'warden', reasons: [{ policy: 'sdk', rule: 'no-shell', message: 'Shell tools are not for agents.' }] });
    expect(d.auditEventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reuses an allow only where policy marks it cacheable, and only for the same call', async () => {
    const c = client();
    const before = (await warden.events('tool.call.decided')).length;
    const first = await c.decide(call('files.read', { path: 'a.txt' }));
    expect(first).toMatchObject({ effect: 'allow', source: 'warden', cache: { ttlMs: 60_000 } });
    expect(await c.decide(call('files.read', { path: 'a.txt' }))).toMatchObject({ effect: 'allow', source: 'cache', auditEventId: first.auditEventId });
    expect((await c.decide(call('files.read', { path: 'b.txt' }))).source).toBe('warden');
    // An allow without `cache:` is asked for every time.
    const q1 = await c.decide(call('db.query', { sql: 'select 1' }));
    const q2 = await c.decide(call('db.query', { sql: 'select 1' }));
    expect([q1.source, q2.source, q1.cache]).toEqual(['warden', 'warden', undefined]);
    expect((await warden.events('tool.call.decided')).length - before).toBe(4);
  });

  it('returns the masked arguments and never marks a redacted allow reusable', async () => {
    const d = await client().decide(call('files.read', { path: DSN }));
    expect(d.effect).toBe('allow');
    expect(JSON.stringify(d.redactedArgs)).toContain('[REDACTED:secret]');
    expect(JSON.stringify(d.redactedArgs)).not.toContain('hunter2secret');
    expect(d.cache).toBeUndefined();
  });
});

describe('failure behaviour', () => {
  it('fails closed when Warden cannot be reached, after its retries', async () => {
    const d = await createWardenClient({ url: await closedPort(), token: 'wdn_x', retries: 2, backoff: { baseMs: 1, maxMs: 2 } }).decide(call('files.read'));
    expect(d).toMatchObject({ effect: 'deny', source: 'sdk', sdkCode: 'sdk.unreachable', reasons: [{ policy: 'warden-sdk', rule: 'sdk.unreachable', effect: 'deny' }] });
    expect(d.reasons[0]!.message).toMatch(/could not be reached.*fails closed/);
  });

  it('allows an unreachable Warden only when built to fail open, and then reports nothing', async () => {
    const c = createWardenClient({ url: await closedPort(), token: 'wdn_x', retries: 0, failOpen: true });
    const d = await c.decide(call('files.read'));
    expect(d).toMatchObject({ effect: 'allow', sdkCode: 'sdk.unreachable' });
    expect(await c.reportOutcome(d, { outcome: 'completed', result: 1 })).toMatchObject({ reported: false });
  });

  it('treats a per-attempt timeout as unreachable', async () => {
    const slow = await fakeHttp(() => {
      /* never answers */
    });
    try {
      const d = await createWardenClient({ url: slow.url, token: 'wdn_x', retries: 1, timeoutMs: 100, backoff: { baseMs: 1, maxMs: 1 } }).decide(call('files.read'));
      expect(d).toMatchObject({ effect: 'deny', sdkCode: 'sdk.unreachable' });
      expect(d.reasons[0]!.message).toContain('did not answer within 100ms');
    } finally {
      slow.server.closeAllConnections();
      slow.server.close();
    }
  });

  it('retries a 503 and a 429 (honouring Retry-After) and then takes Warden’s answer', async () => {
    // A proxy in front of the real Warden that refuses the first two attempts.
    const proxy = await fakeHttp((req, res) => {
      if (proxy.hits() === 1) return res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"x","message":"busy"}}');
      if (proxy.hits() === 2) return res.writeHead(429, { 'retry-after': '0' }).end();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void fetch(`${warden.url}${req.url}`, { method: req.method, headers: { authorization: req.headers.authorization!, 'content-type': 'application/json' }, body: Buffer.concat(chunks) }).then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()));
      });
    });
    try {
      const d = await client({ url: proxy.url, retries: 2, backoff: { baseMs: 1, maxMs: 2 } }).decide(call('shell.run'));
      expect(d).toMatchObject({ source: 'warden', reasons: [{ rule: 'no-shell' }] });
      expect(proxy.hits()).toBe(3);
    } finally {
      proxy.server.close();
    }
  });

  it('stops retrying when Retry-After asks for longer than it waits', async () => {
    const busy = await fakeHttp((_q, res) => res.writeHead(503, { 'retry-after': '120' }).end());
    try {
      const d = await createWardenClient({ url: busy.url, token: 'wdn_x', retries: 3 }).decide(call('files.read'));
      expect(d).toMatchObject({ effect: 'deny', sdkCode: 'sdk.unreachable' });
      expect(d.reasons[0]!.message).toContain('retry after 120s');
      expect(busy.hits()).toBe(1);
    } finally {
      busy.server.close();
    }
  });

  it('says clearly that Warden refused a wrong token, and never fails open on it', async () => {
    const d = await client({ token: 'wdn_not-a-token', failOpen: true }).decide(call('files.read'));
    expect(d).toMatchObject({ effect: 'deny', sdkCode: 'sdk.unauthorized' });
    expect(d.reasons[0]!.message).toMatch(/^Warden refused the request \(401 auth\.[a-z_]+\)/);
  });

  it('denies on a refused action and names Warden’s code', async () => {
    const d = await client().decide({ ...call('files.read'), scope: 'not a scope' });
    expect(d).toMatchObject({ effect: 'deny', sdkCode: 'sdk.refused' });
    expect(d.reasons[0]!.message).toContain('400 action.invalid');
  });

  it('denies on an answer that is not a decision, and on an approval URL that leaves the server', async () => {
    const answers = ['not json', '{"effect":"maybe","reasons":[],"warnings":[],"findings":[],"obligations":[]}', JSON.stringify({ effect: 'allow', reasons: {}, warnings: [], findings: [], obligations: [] })];
    answers.push(JSON.stringify({ effect: 'require_approval', reasons: [], warnings: [], findings: [], obligations: [], approvalRequest: { id: 'apr_1', url: 'https://evil.example/steal', expiresAt: '2099-01-01T00:00:00Z' } }));
    const bad = await fakeHttp((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answers[bad.hits() - 1]));
    try {
      const c = createWardenClient({ url: bad.url, token: 'wdn_x', retries: 0 });
      const got = [];
      for (let i = 0; i < answers.length; i++) got.push(await c.decideAndWait(call('files.read')));
      expect(got.map((d) => [d.effect, d.sdkCode])).toEqual(Array(4).fill(['deny', 'sdk.bad_response']));
      expect(got[3]!.reasons[0]!.message).toContain('not an approval path on this server');
      expect(bad.hits()).toBe(4);
    } finally {
      bad.server.close();
    }
  });
});

describe('approvals', () => {
  it('waits for an approval, then decides again: the allow names the request', async () => {
    const c = client({ approvals: { pollMs: 20, maxPollMs: 50 } });
    const waiting = c.decideAndWait(call('deploy.release', { version: '1.0.0' }));
    const approved = await warden.approveNext('deploy.release');
    const d = await waiting;
    expect(d).toMatchObject({ effect: 'allow', source: 'warden', approvalRequest: { id: approved.id, status: 'approved' } });
  });

  it('denies with the approver’s comment when the request is denied', async () => {
    const c = client({ approvals: { pollMs: 20, maxPollMs: 50 } });
    const waiting = c.decideAndWait(call('deploy.release', { version: '1.0.1' }));
    await warden.approveNext('deploy.release', 'deny');
    expect(await waiting).toMatchObject({ effect: 'deny', sdkCode: 'sdk.approval_denied', reasons: [{ message: expect.stringMatching(/was denied by `alice`: not today$/) }] });
  });

  it('gives up after its wait, withdraws the request and denies', async () => {
    const d = await client({ approvals: { pollMs: 20, maxPollMs: 20, maxWaitMs: 100 } }).decideAndWait(call('deploy.release', { version: '1.0.2' }));
    expect(d).toMatchObject({ effect: 'deny', sdkCode: 'sdk.approval_timeout' });
    const r = await warden.api.app.inject({ method: 'GET', url: d.approvalRequest!.url, headers: warden.api.auth('owner') });
    expect(r.json<ApprovalRequest>().status).toBe('cancelled');
  });

  it('withdraws the request and rethrows when the caller aborts while it waits', async () => {
    // The client's own fetch, observed: the abort comes once it polls the request, not while it still decides.
    let polled!: (url: string) => void;
    const polling = new Promise<string>((r) => (polled = r));
    const observed: typeof fetch = (input, init) => {
      if ((init?.method ?? 'GET') === 'GET' && String(input).includes('/api/v1/approvals/')) polled(String(input));
      return fetch(input, init);
    };
    const ac = new AbortController();
    const waiting = client({ fetch: observed, approvals: { pollMs: 20, maxPollMs: 20 } }).decideAndWait(call('deploy.release', { version: '1.0.3' }), { signal: ac.signal });
    const url = new URL(await polling);
    ac.abort(new Error('user went away'));
    await expect(waiting).rejects.toThrow('user went away');
    const r = await warden.api.app.inject({ method: 'GET', url: url.pathname, headers: warden.api.auth('owner') });
    expect(r.json<ApprovalRequest>()).toMatchObject({ status: 'cancelled', subject: { args: { version: '1.0.3' } } });
  });

  it('denies when the request expired', async () => {
    const c = client({ approvals: { pollMs: 20, maxPollMs: 20 } });
    const first = await c.decide(call('deploy.release', { version: '1.0.4' }));
    expect(first.effect).toBe('require_approval');
    // Warden's clock passes the request's 10-minute timeout while the client waits, and its sweep (a timer of `warden serve`) runs.
    const decided = async () => (await warden.events('tool.call.decided')).filter((e) => e.decision?.approvalRequest?.id === first.approvalRequest!.id).length;
    const waiting = c.decideAndWait(call('deploy.release', { version: '1.0.4' }), { maxWaitMs: 30_000 });
    // Once the client decided again and polls the same request.
    await waitFor(async () => (await decided()) >= 2, { timeoutMs: 20_000, what: 'the second decision on the same request' });
    warden.clock.advance(11 * 60_000);
    expect(await warden.api.core.approvals.expireDue()).toBeGreaterThan(0);
    expect(await waiting).toMatchObject({ effect: 'deny', sdkCode: 'sdk.approval_expired' });
  });
});

describe('outcome reports', () => {
  it('records the tool’s result as tool.call.completed, correlated to its decision, and runs output inspection on it', async () => {
    const c = client();
    const d = await c.decide(call('notes.read', { id: 1 }));
    const receipt = await c.reportOutcome(d, { outcome: 'completed', result: { text: `connect with ${DSN}` }, durationMs: 12 });
    expect(receipt).toMatchObject({ reported: true, masked: true });
    if (!receipt.reported) throw new Error('not reported');
    expect(JSON.stringify(receipt.maskedResult)).toContain('[REDACTED:secret]');
    expect(receipt.findings.map((f) => f.category)).toContain('secret');
    const [event] = (await warden.events('tool.call.completed')).filter((e) => e.id === receipt.eventId);
    expect(event).toMatchObject({ correlationId: d.auditEventId, outcome: 'success', target: { kind: 'tool', server: 'app', name: 'notes.read' }, agent: { id: 'agent-1' }, latencyMs: 12 });
    expect(event!.payload?.resultDigest).toMatch(/^sha256:/);
    expect(JSON.stringify(event)).not.toContain('hunter2secret');
  });

  it('records a failure as tool.call.failed', async () => {
    const c = client();
    const d = await c.decide(call('notes.write', { id: 2 }));
    const receipt = await c.reportOutcome(d, { outcome: 'failed', error: 'disk full' });
    if (!receipt.reported) throw new Error(receipt.reason);
    const [event] = (await warden.events('tool.call.failed')).filter((e) => e.id === receipt.eventId);
    expect(event).toMatchObject({ correlationId: d.auditEventId, outcome: 'error', details: { error: 'disk full', reported: true } });
  });

  it('refuses an outcome for a call that was not allowed, and for a decision of another tenant or credential', async () => {
    const denied = await client().decide(call('shell.run'));
    const refused = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: { authorization: `Bearer ${warden.agentToken}` }, payload: { auditEventId: denied.auditEventId, outcome: 'completed', result: 1 } });
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, 'decision.not_allowed']);

    const allowed = await client().decide(call('notes.read', { id: 3 }));
    const core = warden.api.core;
    expect((await core.identity.createTenant(undefined, { id: 'other', name: 'Other' })).created).toBe(true);
    const outsider = await core.identity.createToken(operator('other'), { name: 'other-enforcer', role: 'enforcer' });
    const foreign = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: { authorization: `Bearer ${outsider.token}` }, payload: { auditEventId: allowed.auditEventId, outcome: 'completed' } });
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, 'decision.not_found']);
    // Another agent of the same tenant did not ask for it.
    const other = await core.identity.createToken(operator(), { name: 'agent-2', role: 'agent', agentId: 'agent-2' });
    const res = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: { authorization: `Bearer ${other.token}` }, payload: { auditEventId: allowed.auditEventId, outcome: 'completed' } });
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'decision.not_found']);
    // An enforcer at the scope may report for anyone.
    const enforced = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: warden.api.auth('enforcer'), payload: { auditEventId: allowed.auditEventId, outcome: 'completed' } });
    expect(enforced.statusCode, enforced.body).toBe(200);
    // An id that is no UUID, a UUID of no event, and a body over the bound.
    const junk = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: warden.api.auth('enforcer'), payload: { auditEventId: 'nope', outcome: 'completed' } });
    expect([junk.statusCode, junk.json().error.code]).toEqual([400, 'request.invalid']);
    const none = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: warden.api.auth('enforcer'), payload: { auditEventId: '00000000-0000-7000-8000-000000000000', outcome: 'completed' } });
    expect([none.statusCode, none.json().error.code]).toEqual([404, 'decision.not_found']);
    const big = await warden.api.app.inject({ method: 'POST', url: '/api/v1/decide/outcome', headers: warden.api.auth('enforcer'), payload: { auditEventId: allowed.auditEventId, outcome: 'completed', result: 'x'.repeat(300 * 1024) } });
    expect(big.statusCode).toBe(413);
  });

  it('reports a result too large to send without its body', async () => {
    const c = client({ maxReportBytes: 64 });
    const d = await c.decide(call('notes.read', { id: 4 }));
    const receipt = await c.reportOutcome(d, { outcome: 'completed', result: 'y'.repeat(100) });
    if (!receipt.reported) throw new Error(receipt.reason);
    const [event] = (await warden.events('tool.call.completed')).filter((e) => e.id === receipt.eventId);
    expect(event).toMatchObject({ details: { omitted: 'too_large' } });
    expect(event!.payload).toBeUndefined();
  });
});

describe('guardCall', () => {
  it('runs the tool with the masked arguments only, and never on a deny', async () => {
    const seen: unknown[] = [];
    const run = async (input: unknown) => {
      seen.push(input);
      return 'ok';
    };
    expect(await guardCall(client(), { target: { scope: 'acme/app', server: 'app' }, toolName: 'db.query', input: { dsn: DSN }, run })).toBe('ok');
    await expect(guardCall(client(), { target: { scope: 'acme/app', server: 'app' }, toolName: 'shell.run', input: { cmd: 'id' }, run })).rejects.toBeInstanceOf(WardenDeniedError);
    expect(seen).toHaveLength(1);
    expect(JSON.stringify(seen[0])).toContain('[REDACTED:secret]');
    expect(JSON.stringify(seen[0])).not.toContain('hunter2secret');
  });
});
