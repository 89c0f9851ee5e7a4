import { request } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpIdentity, listenHttp, type HttpListener } from '../src/gateway/index.js';
import { createAuthFailureLimiter } from '../src/identity/index.js';
import { createCore, startGateway, type Core, type GatewayRuntime } from '../src/main/index.js';
import { inMemoryUpstream, OPEN_POLICY, policyDir } from './fixtures/gateway-harness.js';
import { operator } from './support/api-core.js';

// The gateway's own HTTP listener: a local MCP server is what DNS rebinding and drive-by web pages
// attack, so it checks Host and Origin (as MCP's Streamable HTTP transport asks) and limits failed
// authentications per address, like the API.
const quiet = pino({ level: 'silent' });
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

function toy(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
  return server;
}

/** A raw POST with exactly these headers (fetch would set Host itself). */
function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(INIT);
  });
}

let core: Core;
let rt: GatewayRuntime;
let http: HttpListener;
let token: string;

beforeAll(async () => {
  const policies = policyDir(OPEN_POLICY);
  core = await createCore({ database: { memory: true }, policies: [policies] }, { logger: quiet });
  rt = await startGateway({ policies: [policies], scope: 'acme/platform', upstreams: [inMemoryUpstream('toy', toy)], database: { shared: core }, upstreamStderr: 'ignore', logger: quiet });
  http = await listenHttp(rt.gateway, {
    identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, agents: [], authenticate: (b) => core.identity.authenticate(b) }),
    tokens: core.identity,
    failures: createAuthFailureLimiter({ clock: core.clock, max: 5 }),
    allowedOrigins: ['http://localhost:6274'],
    audit: rt.audit,
    logger: quiet,
  });
  token = (await core.identity.createToken(operator(), { name: 'a', role: 'agent', agentId: 'a1' })).token;
});
afterAll(async () => {
  await http?.close();
  await rt?.close();
  await core?.close();
});

describe('the gateway listener', () => {
  it('answers its loopback names and refuses a rebound name (421) before looking at credentials', async () => {
    const port = new URL(http.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST']) {
      const ok = await post(http.url, { host, authorization: `Bearer ${token}` });
      expect(ok.status, host).toBe(200);
      expect(ok.headers['x-content-type-options']).toBe('nosniff');
    }
    const rebound = await post(http.url, { host: `attacker.example:${port}`, authorization: `Bearer ${token}` });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body).error.data.code).toBe('request.host_refused');
  });

  it('refuses a web origin it was not told about, and lets a configured one in', async () => {
    const evil = await post(http.url, { host: '127.0.0.1', origin: 'https://evil.example', authorization: `Bearer ${token}` });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.data.code).toBe('request.cors_refused');
    expect((await post(http.url, { host: '127.0.0.1', origin: 'http://localhost:6274', authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('limits failed authentications per address: 429 with Retry-After, even for a good token then', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(http.url, { host: '127.0.0.1', authorization: 'Bearer wdn_nope' })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
    const limited = await post(http.url, { host: '127.0.0.1', authorization: `Bearer ${token}` });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('roles an operator bound to an agent', () => {
  it('go only with a token granted over the whole scope of the binding, not one an admin of a narrower scope minted', async () => {
    const identify = createHttpIdentity({
      scope: 'acme/platform',
      policies: rt.policies,
      agents: [{ id: 'payments-bot', principal: { id: 'cfo', roles: ['finance-approver'] } }],
      authenticate: (b) => core.identity.authenticate(b),
    });
    const as = async (token: string) => identify({ headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: '127.0.0.1' } } as unknown as Parameters<typeof identify>[0]);
    const narrow = await core.identity.createToken(operator(), { name: 'n', role: 'agent', agentId: 'payments-bot', principal: 'cfo', scope: 'acme/platform/web' });
    const borrowed = (await as(narrow.token)) as { principal?: { id: string; roles?: string[] } };
    expect(borrowed.principal).toEqual({ id: 'cfo' });
    const wide = await core.identity.createToken(operator(), { name: 'w', role: 'agent', agentId: 'payments-bot', principal: 'cfo' });
    expect(((await as(wide.token)) as { principal?: unknown }).principal).toEqual({ id: 'cfo', roles: ['finance-approver'] });
  });
});
