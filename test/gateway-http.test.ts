import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayRuntime } from '../src/main/index.js';
import { createHttpIdentity, createRedisRateLimiter, listenHttp, type HttpListener } from '../src/gateway/index.js';
import { EVERYTHING, POLICIES, auditEvents, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';

const TOKENS = { alpha: 'alpha-token-0123456789', beta: 'beta-token-0123456789' };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function httpAgent(url: string, token: string, headers: Record<string, string> = {}): Promise<Client> {
  const c = new Client({ name: 'http-agent', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}`, ...headers } } }));
  return c;
}

// Agents over Streamable HTTP; two upstreams aggregated: server-everything over stdio and over HTTP.
describe('gateway over Streamable HTTP, aggregating two upstreams', () => {
  let rt: GatewayRuntime;
  let http: HttpListener;
  let remote: ChildProcess;

  beforeAll(async () => {
    const port = await freePort();
    remote = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server-everything (http) did not start')), 15_000);
      remote.stderr!.on('data', (b: Buffer) => {
        if (b.toString().includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    rt = await runtime({
      policies: [policyDir(POLICIES)],
      upstreams: [
        { name: 'local', command: process.execPath, args: [EVERYTHING, 'stdio'] },
        { name: 'remote', url: `http://127.0.0.1:${port}/mcp` },
      ],
      rateLimits: [{ agents: ['beta'], tools: ['remote.echo'], limit: 3, windowMs: 60_000 }],
      registryCacheMs: 200,
      agentTokens: { source: 'test', agents: [{ id: 'alpha', token: TOKENS.alpha }, { id: 'beta', token: TOKENS.beta }] },
    });
    http = await listenHttp(rt.gateway, {
      identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, authenticate: (bearer) => rt.core.identity.authenticate(bearer) }),
    });
  });
  afterAll(async () => {
    await http?.close();
    await rt?.close();
    remote?.kill();
  });

  it('namespaces tools as server.tool and filters them per agent', async () => {
    const [a, b] = await Promise.all([httpAgent(http.url, TOKENS.alpha), httpAgent(http.url, TOKENS.beta)]);
    const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();
    expect(await names(a)).toEqual(['local.echo', 'local.get-sum', 'local.trigger-long-running-operation', 'remote.echo', 'remote.get-sum', 'remote.trigger-long-running-operation']);
    expect(await names(b)).toEqual(['local.echo', 'local.trigger-long-running-operation', 'remote.echo', 'remote.trigger-long-running-operation']);
    await Promise.all([a.close(), b.close()]);
  });

  it('serves two agents concurrently, each under its own permissions', async () => {
    const [a, b] = await Promise.all([httpAgent(http.url, TOKENS.alpha), httpAgent(http.url, TOKENS.beta)]);
    const calls = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).callTool({ name: i % 4 < 2 ? 'local.get-sum' : 'remote.get-sum', arguments: { a: i, b: 1 } })),
    );
    calls.forEach((r, i) => {
      if (i % 2 === 0) expect(textOf(r)).toContain(String(i + 1));
      else expect(r.isError).toBe(true);
    });
    expect(http.sessions()).toBeGreaterThanOrEqual(2);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses requests without a known token, and a scope outside the agent’s', async () => {
    const res = await fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    await expect(httpAgent(http.url, 'not-a-token-0123456789')).rejects.toThrow();
    await expect(httpAgent(http.url, TOKENS.alpha, { 'x-warden-scope': 'other/place' })).rejects.toThrow();
    const narrowed = await httpAgent(http.url, TOKENS.alpha, { 'x-warden-scope': 'acme/platform/payments' });
    expect(textOf(await narrowed.callTool({ name: 'remote.echo', arguments: { message: 'x' } }))).toBe('Echo: x');
    const events = await auditEvents(rt);
    expect(events.some((e) => e.type === 'tool.call.decided' && e.scope === 'acme/platform/payments')).toBe(true);
    await narrowed.close();
  });

  it('limits calls per agent and tool (in memory)', async () => {
    const b = await httpAgent(http.url, TOKENS.beta);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await b.callTool({ name: 'remote.echo', arguments: { message: `m${i}` } }));
    expect(results.slice(0, 3).every((r) => !r.isError)).toBe(true);
    expect(results[3]!.isError).toBe(true);
    expect(textOf(results[3])).toContain('rate limit of 3 calls per 60000 ms exceeded');
    await b.close();
  });

  it('kill switch: suspending an agent or blocking a server bites live sessions within a second', async () => {
    const a = await httpAgent(http.url, TOKENS.alpha);
    expect(textOf(await a.callTool({ name: 'local.echo', arguments: { message: 'before' } }))).toBe('Echo: before');

    await rt.registry.setAgentStatus('alpha', 'suspended', { type: 'user', id: 'security' });
    const t0 = Date.now();
    let r = await a.callTool({ name: 'local.echo', arguments: { message: 'after' } });
    while (!r.isError && Date.now() - t0 < 2000) r = await a.callTool({ name: 'local.echo', arguments: { message: 'after' } });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(textOf(r)).toContain('agent `alpha` is suspended');
    await rt.registry.setAgentStatus('alpha', 'active', { type: 'user', id: 'security' });

    await rt.registry.block('remote', undefined, 'incident 42', { type: 'user', id: 'security' });
    const t1 = Date.now();
    r = await a.callTool({ name: 'remote.echo', arguments: { message: 'x' } });
    while (!r.isError && Date.now() - t1 < 2000) r = await a.callTool({ name: 'remote.echo', arguments: { message: 'x' } });
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(textOf(r)).toContain('is blocked in the registry');
    expect(textOf(await a.callTool({ name: 'local.echo', arguments: { message: 'local still works' } }))).toBe('Echo: local still works');
    await rt.registry.approve('remote');
    await a.close();
  });
});

describe('Redis rate limiter', () => {
  let redis: Redis | undefined;
  let problem: string | undefined;
  beforeAll(async () => {
    try {
      redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000 });
      await redis.connect();
    } catch (err) {
      problem = String(err);
      redis = undefined;
    }
  });

  it('shares one counter between two gateway replicas', async (ctx) => {
    if (!redis) return ctx.skip(`Redis is not reachable at 127.0.0.1:6379: ${problem}`);
    const prefix = `warden:test:${process.pid}:${Date.now()}:`;
    const one = createRedisRateLimiter(redis, { prefix });
    const two = createRedisRateLimiter(redis.duplicate(), { prefix });
    const hits = [];
    for (let i = 0; i < 6; i++) hits.push(await (i % 2 ? one : two).hit('alpha:remote.echo', 4, 10_000));
    expect(hits.map((h) => h.ok)).toEqual([true, true, true, true, false, false]);
    expect(hits.at(-1)!.count).toBe(6);
    await two.close!();
    await one.close!();
  });
});
