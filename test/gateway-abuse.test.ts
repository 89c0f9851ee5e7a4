import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpIdentity, listenHttp, type HttpListener } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { auditEvents, inMemoryUpstream, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';
import { freePort, hasRedis, startRedis, stopRedis } from './support/redis.js';

// The abuse platform through the real gateway: a burst above a velocity rule's threshold labels the
// agent, opens a case and (in enforce mode) kills its live sessions within a second, with counts in
// memory or in Redis; in shadow mode the same burst changes nothing and is only recorded.

const OPEN = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: open, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call] } }
    - name: no-bulk-creators
      match: { actions: [tool.call] }
      when: '"bulk-creator" in agent.labels'
      effect: deny
      message: This agent is flagged for bulk content.
`;

const BURST = (mode: 'enforce' | 'shadow') => `apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: echo-burst }
spec:
  mode: ${mode}
  category: spam
  severity: high
  match: { actions: [tool.call], tools: ["toy.echo"], effects: [allow] }
  features:
    calls: { count: agent, window: 1m }
  when: features.calls > 5
  verdicts:
    - label: { name: bulk-creator, for: 1h }
    - kill: {}
    - review: { propose: [{ deny: { for: 1h } }] }
  reason: more than 5 echoes in a minute
`;

const TOKENS = { alpha: 'alpha-token-0123456789', beta: 'beta-token-0123456789' };

function echoServer(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `Echo: ${String(req.params.arguments?.message)}` }] }));
  return server;
}

async function httpAgent(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'abuse-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

async function until(check: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > ms) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

interface Setup {
  rt: GatewayRuntime;
  http: HttpListener;
  close(): Promise<void>;
}

async function start(mode: 'enforce' | 'shadow', redisUrl?: string): Promise<Setup> {
  const rt = await runtime({
    policies: [policyDir(OPEN)],
    upstreams: [inMemoryUpstream('toy', echoServer)],
    abuseRules: [policyDir(BURST(mode))],
    abuseDefaultPack: false,
    ...(redisUrl ? { redisUrl } : {}),
    agentTokens: { source: 'test', agents: [{ id: 'alpha', token: TOKENS.alpha }, { id: 'beta', token: TOKENS.beta }] },
  });
  const http = await listenHttp(rt.gateway, {
    identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, authenticate: (bearer) => rt.core.identity.authenticate(bearer) }),
    tokens: rt.core.identity,
    kills: rt.core.abuse.kills,
    audit: rt.audit,
  });
  return {
    rt,
    http,
    async close() {
      await http.close();
      await rt.close();
    },
  };
}

const STORES: { name: string; redis: boolean }[] = [
  { name: 'memory', redis: false },
  { name: 'redis', redis: true },
];

describe.each(STORES)('a burst through the gateway, velocity in $name', ({ redis }) => {
  let redisServer: ChildProcess | undefined;
  let redisUrl: string | undefined;

  beforeAll(async () => {
    if (!redis) return;
    if (!hasRedis) throw new Error('redis-server is not installed (.ci/run installs it)');
    const port = await freePort();
    redisServer = await startRedis(port);
    redisUrl = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (redisServer) await stopRedis(redisServer);
  });

  it('enforce: labels the agent, opens a case and kills its live sessions within a second; another agent is untouched', async () => {
    const s = await start('enforce', redisUrl);
    try {
      const a1 = await httpAgent(s.http.url, TOKENS.alpha);
      const a2 = await httpAgent(s.http.url, TOKENS.alpha);
      const b = await httpAgent(s.http.url, TOKENS.beta);
      expect(s.http.sessions()).toBe(3);
      for (let i = 0; i < 5; i++) expect(textOf(await a1.callTool({ name: 'echo', arguments: { message: `m${i}` } }))).toBe(`Echo: m${i}`);
      // The burst's 6th call is itself allowed (the rule runs once it is recorded); then the kill lands.
      expect(textOf(await a1.callTool({ name: 'echo', arguments: { message: 'm5' } }))).toBe('Echo: m5');
      const waited = await until(() => s.http.sessions() === 1, 5000);
      expect(s.http.sessions()).toBe(1);
      expect(waited).toBeLessThan(1000);
      // Beta's session survived and still works; alpha's sessions are gone.
      expect(textOf(await b.callTool({ name: 'echo', arguments: { message: 'still here' } }))).toBe('Echo: still here');
      await expect(a2.callTool({ name: 'echo', arguments: { message: 'x' } })).rejects.toThrow();
      // A new session of alpha is refused by the policy that reads the label.
      const again = await httpAgent(s.http.url, TOKENS.alpha);
      const refused = (await again.callTool({ name: 'echo', arguments: { message: 'x' } })) as { isError?: boolean };
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toContain('This agent is flagged for bulk content.');
      await Promise.all([a1, a2, b, again].map((c) => c.close().catch(() => {})));

      await s.rt.core.abuse.engine.idle();
      const events = await auditEvents(s.rt);
      const verdict = events.find((e) => e.type === 'abuse.verdict.applied')!;
      expect(verdict.details).toMatchObject({ rule: 'echo-burst', mode: 'enforce', features: { calls: 6 }, entities: { agent: 'alpha' } });
      const opened = events.find((e) => e.type === 'abuse.case.opened')!;
      expect(opened).toBeDefined();
      expect(verdict.details!.caseId).toBeDefined();
      const killed = events.find((e) => e.type === 'abuse.sessions.killed')!;
      expect(killed.details).toMatchObject({ sessions: 2, by: 'abuse rule echo-burst' });
      expect(events.filter((e) => e.type === 'abuse.verdict.applied')).toHaveLength(1);
      // Every session's sixth call is counted once: the burst is one hit (cooldown), one case.
      expect(events.filter((e) => e.type === 'abuse.case.opened')).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('shadow: the same burst changes nothing and records what would have happened', async () => {
    const s = await start('shadow', redisUrl);
    try {
      const a = await httpAgent(s.http.url, TOKENS.alpha);
      for (let i = 0; i < 8; i++) await a.callTool({ name: 'echo', arguments: { message: `m${i}` } });
      await s.rt.core.abuse.engine.idle();
      await new Promise((r) => setTimeout(r, 300)); // more than a kill sweep
      expect(s.http.sessions()).toBe(1);
      expect(textOf(await a.callTool({ name: 'echo', arguments: { message: 'fine' } }))).toBe('Echo: fine');
      await a.close();
      const events = await auditEvents(s.rt);
      const shadowed = events.filter((e) => e.type === 'abuse.verdict.shadowed');
      expect(shadowed).toHaveLength(1);
      expect(shadowed[0]!.details!.verdicts).toEqual(['would label agent `alpha` `bulk-creator` (bad) for 3600 s', 'would kill the live sessions of agent `alpha`', 'would open a case on agent `alpha`']);
      expect(events.filter((e) => ['abuse.verdict.applied', 'abuse.case.opened', 'abuse.sessions.killed', 'abuse.label.added'].includes(e.type))).toEqual([]);
      const screen = await s.rt.core.abuse.engine.screen({ tenantId: 'default', action: { kind: 'tool.call', scope: 'acme/platform', agent: { id: 'alpha' } }, findings: [] });
      expect(screen.labels.agent).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
