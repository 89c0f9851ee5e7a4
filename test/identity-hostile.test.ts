import { connect } from 'node:net';
import { existsSync, lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import type { AuditEvent } from '../src/domain/index.js';
import { startServer } from '../src/main/index.js';
import { apiCore, operator, type ApiUnderTest } from './support/api-core.js';

// A hostile review of the identity work found each of these; every case here failed before its fix.
const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: deny }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: trusted, scope: acme }
spec:
  rules:
    - { name: trusted-agents, effect: allow, match: { tools: ["*"] }, when: 'has(agent.attributes) && agent.attributes.tier == "trusted"' }
    - { name: readers, effect: allow, match: { tools: ["files.read"] } }
`;

let api: ApiUnderTest;
beforeAll(async () => {
  api = await apiCore(POLICY, { capture: { args: true, results: true } });
});
afterAll(() => api?.close());

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) => api.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

describe('the search does not reveal captured bodies to a reader who may not see them', () => {
  it('an analyst finds nothing by guessing a captured argument; an auditor finds it', async () => {
    const res = await inject('POST', '/api/v1/decide', api.auth('enforcer'), { kind: 'tool.call', scope: 'acme/x', agent: { id: 'a1' }, tool: { server: 'files', name: 'files.read' }, args: { note: 'customer passphrase is zebra-4711' } });
    expect(res.statusCode).toBe(200);
    await api.core.flush();
    const search = async (role: 'analyst' | 'auditor', q: string) => ((await inject('GET', `/api/v1/audit/events?q=${encodeURIComponent(q)}`, api.auth(role))).json() as { events: AuditEvent[] }).events;
    expect(await search('auditor', 'passphrase is zebra')).toHaveLength(1);
    expect(await search('analyst', 'passphrase is zebra')).toEqual([]);
    expect(await search('analyst', 'passphrase is z')).toEqual([]);
    // Outside the bodies the analyst still searches.
    expect((await search('analyst', 'files.read')).length).toBeGreaterThan(0);
  });
});

describe('a credential that is not an enforcer asserts no facts about itself', () => {
  const call = (extra: object) => ({ kind: 'tool.call', scope: 'acme/x', tool: { server: 'files', name: 'files.write' }, ...extra });
  for (const [what, body] of [
    ['agent attributes', call({ agent: { id: 'agent-1', attributes: { tier: 'trusted' } } })],
    ['agent owner', call({ agent: { id: 'agent-1', owner: 'security-team' } })],
    ['agent status', call({ agent: { id: 'agent-1', status: 'active' } })],
    ['tool facts', call({ tool: { server: 'files', name: 'files.write', risk: 'low', status: 'approved' } })],
    ['principal type', call({ principal: { id: 'x', type: 'service' } })],
    ['a claimed time', call({ context: { claimedTime: '2001-01-01T00:00:00Z' } })],
  ] as const) {
    it(`refuses ${what} (403, audited)`, async () => {
      const res = await inject('POST', '/api/v1/decide', api.auth('agent'), body);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('auth.assertion_refused');
    });
  }

  it('while an enforcer asserts them', async () => {
    const res = await inject('POST', '/api/v1/decide', api.auth('enforcer'), call({ agent: { id: 'agent-9', attributes: { tier: 'trusted' } } }));
    expect(res.json()).toMatchObject({ effect: 'allow', reasons: [{ rule: 'trusted-agents' }] });
    // The agent token alone decides as itself: denied.
    expect((await inject('POST', '/api/v1/decide', api.auth('agent'), call({}))).json()).toMatchObject({ effect: 'deny' });
  });
});

describe('a route is authenticated by the route it reaches, however its path is spelled', () => {
  it('percent-encoded and absolute-form paths answer 401 without a token', async () => {
    for (const url of ['/%61pi/v1/policies', '/ap%69/v1/policies', '/api/v1/%70olicies']) {
      const res = await api.app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['cache-control'], url).toBe('no-store');
    }
    const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(url).port);
    const raw = await new Promise<string>((resolve, reject) => {
      let out = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(`GET http://localhost:${port}/api/v1/policies HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`));
      socket.on('data', (b: Buffer) => (out += b.toString()));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
    expect(raw.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (401|404)/);
  });
});

describe('tokens', () => {
  it('a role held at a scope does not reach the tenant-wide streaming routes', async () => {
    const auditor = await api.core.identity.createToken(operator(), { name: 'scoped-auditor', role: 'auditor', scope: 'acme/a' });
    const admin = await api.core.identity.createToken(operator(), { name: 'scoped-admin', role: 'admin', scope: 'acme/a' });
    const h = (t: string) => ({ authorization: `Bearer ${t}` });
    expect((await inject('GET', '/api/v1/audit/destinations', h(auditor.token))).statusCode).toBe(403);
    expect((await inject('GET', '/api/v1/audit/destinations/siem/dead-letters', h(auditor.token))).statusCode).toBe(403);
    expect((await inject('POST', '/api/v1/audit/destinations/siem/replay', h(admin.token), { fromSeq: 1 })).statusCode).toBe(403);
    expect((await inject('GET', '/api/v1/audit/destinations', api.auth('auditor'))).statusCode).toBe(200);
  });

  it('two concurrent rotations of one token leave exactly one live successor', async () => {
    const t = await api.core.identity.createToken(operator(), { name: 'rotated', role: 'viewer' });
    const [a, b] = await Promise.all([inject('POST', `/api/v1/tokens/${t.info.id}/rotate`, api.auth('owner')), inject('POST', `/api/v1/tokens/${t.info.id}/rotate`, api.auth('owner'))]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    const winner = (a.statusCode === 201 ? a : b).json() as { token: string };
    expect((await inject('GET', '/api/v1/whoami', { authorization: `Bearer ${winner.token}` })).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/whoami', { authorization: `Bearer ${t.token}` })).statusCode).toBe(401);
  });

  it('an admin may not revoke or rotate an owner token', async () => {
    const owner = await api.core.identity.createToken(operator(), { name: 'second-owner', role: 'owner' });
    expect((await inject('DELETE', `/api/v1/tokens/${owner.info.id}`, api.auth('admin'))).statusCode).toBe(403);
    expect((await inject('POST', `/api/v1/tokens/${owner.info.id}/rotate`, api.auth('admin'))).statusCode).toBe(403);
    expect((await inject('GET', '/api/v1/whoami', { authorization: `Bearer ${owner.token}` })).statusCode).toBe(200);
    expect((await inject('DELETE', `/api/v1/tokens/${owner.info.id}`, api.auth('owner'))).statusCode).toBe(200);
  });

  it('refuses names with terminal escapes or line breaks', async () => {
    for (const name of ['evil\u001b[2J', 'two\nlines', 'bell\u0007']) {
      const res = await inject('POST', '/api/v1/tokens', api.auth('owner'), { name, role: 'viewer' });
      expect(res.statusCode, JSON.stringify(name)).toBe(400);
    }
  });

  it('a valid token from an address does not reset its count of failures', async () => {
    const from = (authorization: string) => api.app.inject({ url: '/api/v1/whoami', remoteAddress: '10.7.7.7', headers: { authorization } });
    let limited = false;
    for (let round = 0; round < 5 && !limited; round++) {
      for (let i = 0; i < 10; i++) if ((await from('Bearer wdn_nope')).statusCode === 429) limited = true;
      await from(api.auth('viewer').authorization);
    }
    expect(limited).toBe(true);
  });
});

describe('the bootstrap token file', () => {
  it('replaces a planted symlink instead of writing through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-boot-link-'));
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const file = join(dir, 'data.bootstrap-token');
    symlinkSync(victim, file);
    writeFileSync(join(dir, 'p.yaml'), POLICY);
    const server = await startServer(loadConfig({ policies: [join(dir, 'p.yaml')], port: 0, dataDir: join(dir, 'data'), checkpointInterval: 0, watch: false, bootstrapTokenFile: file }, {}), { logger: pino({ level: 'silent' }) });
    try {
      expect(readFileSync(victim, 'utf8')).toBe('precious');
      expect(lstatSync(file).isSymbolicLink()).toBe(false);
      expect(lstatSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').trim()).toBe(server.bootstrap!.token);
    } finally {
      await server.close();
    }
  });

  it('a start that cannot write the file fails, and the next start makes the token again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-boot-fail-'));
    writeFileSync(join(dir, 'p.yaml'), POLICY);
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const config = (file: string) => loadConfig({ policies: [join(dir, 'p.yaml')], port: 0, dataDir: join(dir, 'data'), checkpointInterval: 0, watch: false, bootstrapTokenFile: file }, {});
    await expect(startServer(config(join(dir, 'not-a-dir', 'token')), { logger: pino({ level: 'silent' }) })).rejects.toMatchObject({ code: 'config.invalid' });
    const server = await startServer(config(join(dir, 'token')), { logger: pino({ level: 'silent' }) });
    try {
      expect(server.bootstrap).toBeDefined();
      expect(existsSync(join(dir, 'token'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('second review', () => {
  it("a suspended tenant's tokens are invalid to the gateway's sweeper", async () => {
    await api.core.identity.createTenant(undefined, { id: 'sleepy', name: 'Sleepy' });
    const t = await api.core.identity.createToken(operator('sleepy'), { name: 'a', role: 'agent', agentId: 'z' });
    expect(await api.core.identity.invalidTokens([t.info.id])).toEqual([]);
    await api.core.identity.setTenantStatus(operator('sleepy'), 'sleepy', 'suspended');
    expect(await api.core.identity.invalidTokens([t.info.id])).toEqual([t.info.id]);
  });

  it('refuses a day the calendar does not have instead of moving it', async () => {
    const res = await inject('POST', '/api/v1/audit/holds', api.auth('owner'), { scope: 'acme', from: '2026-02-30T00:00:00Z', reason: 'x' });
    expect(res.statusCode).toBe(400);
    expect((await inject('POST', '/api/v1/audit/holds', api.auth('owner'), { scope: 'acme', from: '2028-02-29T00:00:00Z', reason: 'leap day' })).statusCode).toBe(201);
  });

  it("answers the router's own refusals in the API's error shape, the path echoed bounded", async () => {
    for (const [url, status] of [['/api/v1/tokens/%E0%A4%A', 400], [`/api/v1/registry/servers/${'a'.repeat(300)}`, 414]] as const) {
      const res = await api.app.inject({ url, headers: api.auth('owner') });
      expect(res.statusCode, url).toBe(status);
      expect(res.json()).toMatchObject({ error: { code: 'request.invalid' } });
      expect(res.body.length).toBeLessThan(400);
    }
  });

  it('refuses terminal escapes in registry owners and reasons', async () => {
    const res = await inject('POST', '/api/v1/registry/servers/files/block', api.auth('owner'), { reason: 'pwned \u001b]0;title\u0007' });
    expect(res.statusCode).toBe(400);
  });
});
