import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { isWardenError } from '../src/domain/index.js';
import { freePort, hasRedis, startRedis, stopRedis } from './support/redis.js';
import { DECISION_META_KEY, RATE_LIMITED, createRedisRateLimiter } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { agent, auditEvents, inMemoryUpstream, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';
import { waitFor } from './support/wait-for.js';

// Rate limits in a REAL Redis of the test's own (never the shared one on 6379): while it is down, a
// call under a limit is refused within the timeout with a coded message and an outcome event (fail
// closed), logs stay JSON, and the gateway counts again once Redis is back, without a restart.

const OPEN = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: open, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call, resource.list, resource.read] } }
`;

function toyServer(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'echo', inputSchema: { type: 'object' } },
      { name: 'free', inputSchema: { type: 'object' } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `${req.params.name}: ${String(req.params.arguments?.message)}` }] }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'toy://ok', name: 'ok' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async () => ({ contents: [{ uri: 'toy://ok', text: 'fine' }] }));
  return server;
}

describe.skipIf(!hasRedis)('rate limits over a Redis that goes down and comes back', () => {
  let port: number;
  let redis: ChildProcess;
  let rt: GatewayRuntime;
  let alpha: Client;
  const logLines: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    rt = await runtime({
      policies: [policyDir(OPEN)],
      upstreams: [inMemoryUpstream('toy', toyServer)],
      rateLimits: [
        { tools: ['toy.echo'], limit: 1000, windowMs: 60_000 },
        { resources: ['toy://*'], limit: 1000, windowMs: 60_000 },
      ],
      redisUrl: `redis://127.0.0.1:${port}`,
      logger: pino({ level: 'info' }, sink),
    });
    alpha = await agent(rt.gateway, { agentId: 'alpha' });
    // The limiter connects in the background; a first call waits for it (within the timeout).
    await waitFor(async () => !(await alpha.callTool({ name: 'echo', arguments: { message: 'warm' } })).isError, { what: 'the limiter to connect' });
  });
  afterAll(async () => {
    await alpha?.close();
    await rt?.close();
    if (redis) await stopRedis(redis);
  });

  it('fails closed within the default 500 ms with a coded refusal and an outcome event, logs JSON only, and recovers without a restart', async () => {
    expect(textOf(await alpha.callTool({ name: 'echo', arguments: { message: 'up' } }))).toBe('echo: up');

    const stderr = vi.spyOn(process.stderr, 'write');
    const consoleError = vi.spyOn(console, 'error');
    try {
      await stopRedis(redis);

      const t0 = performance.now();
      const refused = await alpha.callTool({ name: 'echo', arguments: { message: 'down' } });
      const took = performance.now() - t0;
      expect(took).toBeLessThan(2000); // at most 500 ms for Redis, plus the decision's commit on a busy machine (it took 6-15 s)
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe(
        'Warden could not reach Redis, which holds the rate-limit counters, within 500 ms, so it refused this request rather than let it through uncounted; retry once Redis is back',
      );
      const meta = refused._meta?.[DECISION_META_KEY] as Record<string, unknown>;
      expect(meta).toMatchObject({ refusal: 'rate_limiter_unavailable', code: 'gateway.rate_limiter_unavailable' });

      // A read has no isError result: a JSON-RPC error with RATE_LIMITED and the same code in its data.
      const err = await alpha.readResource({ uri: 'toy://ok' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(RATE_LIMITED);
      expect(((err as McpError).data as Record<string, unknown>)[DECISION_META_KEY]).toMatchObject({ refusal: 'rate_limiter_unavailable', code: 'gateway.rate_limiter_unavailable' });

      // A tool under no rate limit does not need Redis.
      expect(textOf(await alpha.callTool({ name: 'free', arguments: { message: 'x' } }))).toBe('free: x');

      const events = await auditEvents(rt);
      const decided = events.filter((e) => e.type === 'tool.call.decided' && e.target?.name === 'toy.echo').at(-1)!;
      expect(meta.auditEventId).toBe(decided.id);
      const outcome = events.find((e) => e.type === 'tool.call.rate_limiter_unavailable' && e.correlationId === decided.id);
      expect(outcome).toMatchObject({ outcome: 'error', details: { refusal: 'rate_limiter_unavailable' } });
      expect(events.some((e) => e.type === 'resource.read.rate_limiter_unavailable')).toBe(true);

      // Nothing of ioredis' own on stderr; the outage is one JSON line in the gateway's log.
      const printed = [...stderr.mock.calls.map((c) => String(c[0])), ...consoleError.mock.calls.map((c) => c.map(String).join(' '))];
      expect(printed.filter((l) => /ioredis|ECONNREFUSED/i.test(l))).toEqual([]);
      for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
      // One line per Redis consumer (rate limiter; the abuse rules' velocity counts share the URL), not a reconnect storm.
      const lost = logLines.map((l) => JSON.parse(l) as { msg: string; code?: string }).filter((l) => l.msg.startsWith('lost the connection to Redis'));
      expect(lost.filter((l) => l.code === 'gateway.rate_limiter_unavailable')).toHaveLength(1);
      expect(new Set(lost.map((l) => l.code)).size).toBe(lost.length);

      redis = await startRedis(port);
      const back = await waitFor(async () => {
        const r = await alpha.callTool({ name: 'echo', arguments: { message: 'back' } });
        return r.isError ? undefined : r;
      }, { what: 'calls to pass again once Redis is back' });
      expect(textOf(back)).toBe('echo: back');
      await waitFor(() => logLines.some((l) => (JSON.parse(l) as { msg: string }).msg.startsWith('reconnected to Redis')), { what: 'the reconnection to be logged' });
    } finally {
      stderr.mockRestore();
      consoleError.mockRestore();
    }
  });

  it('bounds the wait on a Redis that accepts the connection but stalls, and counts again once it answers', async () => {
    expect(textOf(await alpha.callTool({ name: 'echo', arguments: { message: 'up' } }))).toBe('echo: up');
    redis.kill('SIGSTOP');
    try {
      const t0 = performance.now();
      const refused = await alpha.callTool({ name: 'echo', arguments: { message: 'stalled' } });
      const took = performance.now() - t0;
      expect(refused.isError).toBe(true);
      expect((refused._meta?.[DECISION_META_KEY] as Record<string, unknown>).code).toBe('gateway.rate_limiter_unavailable');
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(2000);
    } finally {
      redis.kill('SIGCONT');
    }
    const back = await waitFor(async () => {
      const r = await alpha.callTool({ name: 'echo', arguments: { message: 'back' } });
      return r.isError ? undefined : r;
    }, { what: 'calls to pass again once Redis answers' });
    expect(textOf(back)).toBe('echo: back');
  });

  it('refuses within the timeout when Redis was never up, and closes without reconnecting forever', async () => {
    const client = new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => {});
    const limiter = createRedisRateLimiter(client, { timeoutMs: 200 });
    const t0 = performance.now();
    const err = await limiter.hit('alpha:toy.echo', 10, 60_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(isWardenError(err) && err.code).toBe('gateway.rate_limiter_unavailable');
    await limiter.close!();
    let attempts = 0;
    client.on('reconnecting', () => attempts++);
    await new Promise((resolve) => setTimeout(resolve, 250)); // five retry periods
    expect(attempts).toBe(0);
  });
});
