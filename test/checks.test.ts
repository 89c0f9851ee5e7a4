import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCheckClient } from '../src/approvals/checks.js';
import { verifyCheckSignature } from '../src/approvals/check-signature.js';
import { createCheckpoint, type CheckRequest } from '../src/checkpoint/index.js';
import { digestJson, type CheckRequirement, type Clock } from '../src/domain/index.js';
import { loadPolicySources, type PolicySet } from '../src/policy/index.js';
import { call, policy, settings } from '../src/policy/test-helpers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiCore, authed } from './support/api-core.js';
import { cli } from './support/cli.js';

const SECRET = 'check-secret-for-tests';

/** What the server saw of one request. */
interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

// One local check service: the path picks the answer.
let server: Server;
let base: string;
let port: number;
const seen: Seen[] = [];
const hits = (path: string) => seen.filter((s) => s.path === path).length;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push({ path, headers: req.headers, body });
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(typeof v === 'string' ? v : JSON.stringify(v));
      };
      if (path === '/deny') return json(200, { verdict: 'deny', reason: 'change freeze until Monday' });
      if (path === '/allow') return json(200, { verdict: 'allow' });
      if (path === '/approve') return json(200, { verdict: 'require_approval', reason: 'a large change' });
      if (path === '/slow') return void setTimeout(() => json(200, { verdict: 'allow' }), 1500).unref();
      if (path === '/redirect') {
        res.writeHead(302, { location: `${base}/allow` });
        return res.end();
      }
      if (path === '/big') return json(200, `{"verdict":"allow","reason":"${'x'.repeat(70 * 1024)}"}`);
      if (path === '/maybe') return json(200, { verdict: 'maybe' });
      if (path === '/notjson') return json(200, 'yes');
      if (path === '/multiline') return json(200, { verdict: 'deny', reason: 'frozen\nX-Forged: line\u202e', extra: 1 });
      return json(500, { error: 'boom' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

let now = new Date('2026-12-07T12:00:00Z');
const clock: Clock = { now: () => now };

const checkRule = (name: string, tools: string, checks: string) => `    - name: ${name}\n      match: { tools: ["${tools}"] }\n      effect: allow\n      checks: [${checks}]`;
const POLICY = [
  settings('acme', '{ defaultEffect: allow }'),
  policy(
    'gate',
    'acme',
    [
      checkRule('frozen', 'deny.*', `{ name: freeze, url: "${'BASE'}/deny" }`),
      checkRule('slow-closed', 'slowdeny.*', `{ name: slow, url: "BASE/slow", timeout: 200ms }`),
      checkRule('slow-open', 'slowallow.*', `{ name: slow, url: "BASE/slow", timeout: 200ms, onError: allow }`),
      checkRule('big', 'approve.*', `{ name: size, url: "BASE/approve" }`),
      checkRule('cached', 'cached.*', `{ name: ok, url: "BASE/allow", cache: 1m }`),
      checkRule('moved', 'moved.*', `{ name: moved, url: "BASE/redirect" }`),
    ].join('\n'),
  ),
].join('---\n');

function setFor(checkHosts: string[]): PolicySet {
  const r = loadPolicySources([{ file: 'p.yaml', text: POLICY.replaceAll('BASE', base) }], { checkHosts });
  if (!r.set) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.set;
}

function checkpointWith(client = createCheckClient({ secret: SECRET, allowHosts: ['127.0.0.1'], clock })) {
  const set = setFor(['127.0.0.1']);
  return createCheckpoint({ policies: { current: () => set }, registry: { findTool: async () => undefined, findAgent: async () => undefined }, audit: { append: async () => {} }, clock, checks: client });
}

const act = (tool: string, args: Record<string, unknown> = { v: 1 }) => call('acme/app', tool, { args, principal: { id: 'alice' }, agent: { id: 'bot-1' } });

describe('status checks over HTTP, through the checkpoint', () => {
  it('a check that denies makes the decision a deny with its reason, and explains the outcome', async () => {
    const { decision } = await checkpointWith().check(act('deny.release'));
    expect(decision.effect).toBe('deny');
    expect(decision.reasons).toEqual([{ policy: 'gate', version: 1, rule: 'frozen', effect: 'deny', message: 'status check `freeze` denied: change freeze until Monday' }]);
    expect(decision.checks).toEqual([{ policy: 'gate', rule: 'frozen', name: 'freeze', verdict: 'deny', reason: 'change freeze until Monday', ms: expect.any(Number) }]);
    expect(hits('/deny')).toBe(1);
  });

  it('a check past its timeout follows onError: deny fails closed, allow fails open, both say why', async () => {
    const checkpoint = checkpointWith();
    const t0 = Date.now();
    const [closed, open] = await Promise.all([checkpoint.check(act('slowdeny.x')), checkpoint.check(act('slowallow.x'))]);
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(closed.decision.effect).toBe('deny');
    expect(closed.decision.checks).toEqual([{ policy: 'gate', rule: 'slow-closed', name: 'slow', verdict: 'deny', error: 'no answer within 200ms', ms: expect.any(Number) }]);
    expect(closed.decision.reasons[0]!.message).toBe('status check `slow` did not answer (no answer within 200ms), and its onError is deny');
    expect(open.decision.effect).toBe('allow');
    expect(open.decision.checks![0]).toMatchObject({ verdict: 'allow', error: 'no answer within 200ms' });
  });

  it('a require_approval answer turns the allow into require_approval with an approval requirement', async () => {
    const { decision } = await checkpointWith().check(act('approve.big'));
    expect(decision.effect).toBe('require_approval');
    expect(decision.approval).toEqual([{ policy: 'gate', rule: 'big', approvers: { roles: ['approver'] }, count: 1 }]);
    expect(decision.reasons[0]!.message).toBe('status check `size` asks for approval: a large change');
  });

  it('signs the body with the secret and the timestamp; the receiver recomputes the digest', async () => {
    await checkpointWith().check(act('deny.release'), { tenantId: 'default' });
    const [req] = seen;
    expect(req!.headers['content-type']).toBe('application/json');
    const timestamp = req!.headers['x-warden-timestamp'] as string;
    expect(timestamp).toBe(String(Math.floor(now.getTime() / 1000)));
    const signature = req!.headers['x-warden-signature'] as string;
    expect(signature).toBe(`v1=${createHmac('sha256', SECRET).update(`${timestamp}.${req!.body}`).digest('hex')}`);
    const nowSec = Math.floor(now.getTime() / 1000);
    expect(verifyCheckSignature(SECRET, { timestamp, signature }, req!.body, nowSec)).toBe(true);
    expect(verifyCheckSignature('another-secret', { timestamp, signature }, req!.body, nowSec)).toBe(false);
    expect(verifyCheckSignature(SECRET, { timestamp, signature }, req!.body.replace('"v":1', '"v":2'), nowSec)).toBe(false);
    // Replayed six minutes later: refused.
    expect(verifyCheckSignature(SECRET, { timestamp, signature }, req!.body, nowSec + 360)).toBe(false);
    const body = JSON.parse(req!.body) as { check: string; tenant: string; digest: string; action: unknown; sentAt: string };
    expect(body).toEqual({
      check: 'freeze',
      tenant: 'default',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      action: { kind: 'tool.call', scope: 'acme/app', tool: { server: 'deny', name: 'deny.release' }, args: { v: 1 }, principal: 'alice', agent: 'bot-1' },
      sentAt: now.toISOString(),
    });
    expect(body.digest).toBe(digestJson({ tenant: body.tenant, action: body.action }));
  });

  it('reuses a cached answer for the same digest within the cache time, and asks again after it or for other arguments', async () => {
    const checkpoint = checkpointWith();
    const first = await checkpoint.check(act('cached.read'));
    const second = await checkpoint.check(act('cached.read'));
    expect(hits('/allow')).toBe(1);
    expect(first.decision.checks![0]!.cached).toBeUndefined();
    expect(second.decision.checks![0]).toMatchObject({ verdict: 'allow', cached: true });
    await checkpoint.check(act('cached.read', { v: 2 }));
    expect(hits('/allow')).toBe(2);
    now = new Date(now.getTime() + 61_000);
    await checkpoint.check(act('cached.read'));
    expect(hits('/allow')).toBe(3);
  });

  it('does not follow a redirect', async () => {
    const { decision } = await checkpointWith().check(act('moved.x'));
    expect(decision.effect).toBe('deny');
    expect(decision.checks![0]!.error).toBe(`HTTP 302: redirects are not followed (to \`${base}/allow\`)`);
    expect(hits('/redirect')).toBe(1);
    expect(hits('/allow')).toBe(0);
  });
});

const req = (url: string, extra: Partial<CheckRequirement> = {}): CheckRequirement => ({ policy: 'p', version: 1, rule: 'r', name: 'c', url, timeoutMs: 2000, onError: 'deny', cacheMs: 0, ...extra });
const request: CheckRequest = { tenantId: 'default', action: { kind: 'tool.call', scope: 'acme' }, digest: 'sha256:00' };

describe('the check client', () => {
  it('refuses at request time a name that resolves to a loopback or private address unless the name is allow-listed', async () => {
    const resolve = async (host: string) => {
      if (host === 'checks.example.test' || host === 'checks.internal') return [{ address: '127.0.0.1', family: 4 }];
      if (host === 'mixed.example.test') return [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    const client = createCheckClient({ secret: SECRET, allowHosts: ['checks.internal'], clock, resolve });
    const [rebound, mixed, local, allowed, literal] = await client.run(
      [req(`http://checks.example.test:${port}/allow`), req(`http://mixed.example.test:${port}/allow`), req(`http://localhost:${port}/allow`), req(`http://checks.internal:${port}/allow`), req(`http://127.0.0.1:${port}/allow`)],
      request,
    );
    expect(rebound).toMatchObject({ verdict: 'deny', error: 'host `checks.example.test` resolves to `127.0.0.1`, a loopback address, and is not allow-listed (SSRF guard)' });
    expect(mixed).toMatchObject({ verdict: 'deny', error: expect.stringContaining('`10.0.0.7`, a private address') });
    expect(local).toMatchObject({ verdict: 'deny', error: 'host `localhost` is localhost, which is not allow-listed (SSRF guard)' });
    expect(literal).toMatchObject({ verdict: 'deny', error: expect.stringContaining('a loopback address') });
    // The allow-listed name is connected to at the address it was judged by: no resolver would find `checks.internal`.
    expect(allowed).toMatchObject({ verdict: 'allow' });
    expect(allowed!.error).toBeUndefined();
    expect(hits('/allow')).toBe(1);
    expect(seen[0]!.headers.host).toBe(`checks.internal:${port}`);
  });

  it('refuses localhost before asking any resolver (the default one here)', async () => {
    const [out] = await createCheckClient({ clock, allowHosts: [] }).run([req(`http://localhost:${port}/allow`)], request);
    expect(out!.error).toContain('SSRF guard');
    expect(seen).toHaveLength(0);
  });

  it('keeps a reason on one line, printable, and ignores fields it does not know', async () => {
    const [out] = await createCheckClient({ allowHosts: ['127.0.0.1'], clock }).run([req(`${base}/multiline`)], request);
    expect(out).toMatchObject({ verdict: 'deny', reason: 'frozen X-Forged: line' });
  });

  it('turns every bad answer into an error that follows onError', async () => {
    const client = createCheckClient({ secret: SECRET, allowHosts: ['127.0.0.1'], clock });
    const outs = await client.run([req(`${base}/big`), req(`${base}/maybe`), req(`${base}/notjson`), req(`${base}/fail`, { onError: 'allow' }), req(`http://127.0.0.1:1/none`)], request);
    expect(outs.map((o) => [o.verdict, o.error])).toEqual([
      ['deny', 'the answer is larger than 65536 bytes'],
      ['deny', 'the answer has no `verdict` of allow, deny or require_approval'],
      ['deny', 'the answer is not JSON'],
      ['allow', 'HTTP 500'],
      ['deny', 'the request failed (ECONNREFUSED)'],
    ]);
  });

  it('sends no signature without a secret, and says so once', async () => {
    let warnings = 0;
    const client = createCheckClient({ allowHosts: ['127.0.0.1'], clock, onUnsigned: () => warnings++ });
    await client.run([req(`${base}/allow`), req(`${base}/allow`, { name: 'd' })], request);
    await client.run([req(`${base}/allow`)], request);
    expect(hits('/allow')).toBe(3);
    expect(seen.every((s) => s.headers['x-warden-signature'] === undefined && s.headers['x-warden-timestamp'] !== undefined)).toBe(true);
    expect(warnings).toBe(1);
  });

  it('keeps at most cacheEntries answers, dropping the least recently used', async () => {
    const client = createCheckClient({ allowHosts: ['127.0.0.1'], clock, cacheEntries: 2 });
    const cached = req(`${base}/allow`, { cacheMs: 60_000 });
    const at = (digest: string) => client.run([cached], { ...request, digest });
    await at('a');
    await at('b');
    await at('a'); // a hit: `a` is now the most recent
    await at('c'); // evicts `b`
    expect(hits('/allow')).toBe(3);
    expect((await at('a'))[0]!.cached).toBe(true);
    expect((await at('b'))[0]!.cached).toBeUndefined();
  });
});

describe('status checks in the server', () => {
  it('refuses at load a policy whose check URL is on a private address that is not allow-listed', async () => {
    const text = policy('gate', 'acme', checkRule('r', 'deploy.*', `{ name: c, url: "http://169.254.169.254/latest" }`));
    await expect(apiCore(text)).rejects.toThrow(/lint\/check-private-address.*169\.254\.169\.254.*link-local/);
  });

  it('decides through POST /api/v1/decide with the check answered over HTTP', async () => {
    const api = await apiCore(POLICY.replaceAll('BASE', base), { checks: { secret: SECRET, allowHosts: ['127.0.0.1'] } });
    try {
      const res = await authed(api).inject({ method: 'POST', url: '/api/v1/decide', payload: { kind: 'tool.call', scope: 'acme/app', agent: { id: 'agent-1' }, tool: { server: 'deny', name: 'deny.release' } } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ effect: 'deny', reasons: [{ rule: 'frozen', message: 'status check `freeze` denied: change freeze until Monday' }], checks: [{ name: 'freeze', verdict: 'deny' }] });
      expect(seen[0]!.headers['x-warden-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
      await api.core.flush();
      const { events } = await api.core.auditLog.list({ type: 'tool.call.decided', limit: 10 });
      expect(events).toHaveLength(1);
      expect(events[0]!.decision?.checks).toEqual([expect.objectContaining({ name: 'freeze', verdict: 'deny', reason: 'change freeze until Monday' })]);
      expect(JSON.stringify(events)).not.toContain(`${base}/deny`);
    } finally {
      await api.close();
    }
  });
});

describe('status checks on the command line', () => {
  it('`warden policy lint` refuses a private check host unless WARDEN_CHECK_ALLOW_HOSTS lists it, as the server does', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-checks-'));
    writeFileSync(join(d, 'p.yaml'), policy('gate', 'acme', checkRule('r', 'deploy.*', '{ name: c, url: "http://10.0.0.5/check" }')));
    const refused = await cli(['policy', 'lint', d]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('error[lint/check-private-address]: status check `c`: host `10.0.0.5` is a private address');
    expect((await cli(['policy', 'lint', d], { env: { WARDEN_CHECK_ALLOW_HOSTS: '10.0.0.5' } })).code).toBe(0);
  });
});
