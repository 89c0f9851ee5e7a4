import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readConfigFile, sessionLimitsOf } from '../src/config/index.js';
import { createHttpIdentity, listenHttp, type HttpListener, type HttpListenOptions } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { auditEvents, inMemoryUpstream, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';
import { fakeClock, type FakeClock } from './support/fake-clock.js';

// Streamable HTTP sessions are capped per agent (one token cannot take every session) and in all,
// and expire when idle; a refusal is audited, an expired session's id answers "session not found".

const OPEN = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: open, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call] } }
`;
const TOKENS = { alpha: 'alpha-token-0123456789', beta: 'beta-token-0123456789' };
const IDLE_MS = 60_000;

function echoServer(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `Echo: ${String(req.params.arguments?.message)}` }] }));
  return server;
}

async function httpAgent(url: string, token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'session-test', version: '1' });
  await client.connect(transport);
  return { client, transport };
}

/** A raw `initialize` POST, to read the refusal's status and body as an agent would. */
async function initialize(url: string, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
}

/** A raw `tools/list` on an existing session. */
async function listOn(url: string, token: string, sessionId: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-03-26' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
  });
}

describe('Streamable HTTP session limits', () => {
  let rt: GatewayRuntime;
  let clock: FakeClock;
  let http: HttpListener | undefined;
  const open: Client[] = [];

  const listen = async (opts: Partial<HttpListenOptions> = {}) => {
    http = await listenHttp(rt.gateway, {
      identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, authenticate: (bearer) => rt.core.identity.authenticate(bearer) }),
      maxSessionsPerAgent: 2,
      idleTimeoutMs: IDLE_MS,
      clock,
      audit: rt.audit,
      ...opts,
    });
    return http;
  };
  const connect = async (token: string) => {
    const a = await httpAgent(http!.url, token);
    open.push(a.client);
    return a;
  };

  beforeAll(async () => {
    clock = fakeClock('2026-03-01T10:00:00.000Z');
    rt = await runtime({ policies: [policyDir(OPEN)], upstreams: [inMemoryUpstream('toy', echoServer)], clock, agentTokens: { source: 'test', agents: [{ id: 'alpha', token: TOKENS.alpha }, { id: 'beta', token: TOKENS.beta }] } });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => {})));
    await http?.close();
    http = undefined;
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('refuses an agent at its cap with 429 naming the limit, audits it, and still lets another agent in', async () => {
    await listen();
    await connect(TOKENS.alpha);
    await connect(TOKENS.alpha);

    const refused = await initialize(http!.url, TOKENS.alpha);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: number; message: string; data: Record<string, unknown> } };
    expect(body.error.message).toMatch(/^agent `alpha` already holds 2 open sessions, the most one agent may hold; close sessions .* idle sessions close after 60 s$/);
    expect(body.error.data).toEqual({ code: 'gateway.session_limit', limit: 'maxSessionsPerAgent', max: 2 });
    await expect(httpAgent(http!.url, TOKENS.alpha)).rejects.toThrow();

    const beta = await connect(TOKENS.beta);
    expect(textOf(await beta.client.callTool({ name: 'echo', arguments: { message: 'in' } }))).toBe('Echo: in');

    await http!.close(); // waits for the refusal's audit write
    http = undefined;
    const events = (await auditEvents(rt)).filter((e) => e.type === 'gateway.session.refused');
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[0]).toMatchObject({ category: 'auth', outcome: 'denied', actor: { type: 'agent', id: 'alpha', authMethod: 'token' }, details: { limit: 'maxSessionsPerAgent', max: 2, code: 'gateway.session_limit' } });
  });

  it('gives a slot back when a session ends, and counts concurrent initializations against the cap', async () => {
    await listen();
    const statuses = await Promise.all(Array.from({ length: 5 }, () => initialize(http!.url, TOKENS.alpha).then(async (r) => (await r.text(), r.status))));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    await http!.close();

    await listen();
    const first = await connect(TOKENS.alpha);
    await connect(TOKENS.alpha);
    await expect(httpAgent(http!.url, TOKENS.alpha)).rejects.toThrow();
    await first.transport.terminateSession(); // DELETE: the session ends and its slot is free again
    await connect(TOKENS.alpha);
    expect(http!.sessions()).toBe(2);
  });

  it('refuses past the global cap with 503', async () => {
    await listen({ maxSessions: 1 });
    await connect(TOKENS.alpha);
    const refused = await initialize(http!.url, TOKENS.beta);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { data: unknown } }).error.data).toEqual({ code: 'gateway.session_limit', limit: 'maxSessions', max: 1 });
  });

  it('expires an idle session on the injected clock: its id then answers "session not found" and its session server is released', async () => {
    await listen({ maxSessionsPerAgent: 3 });
    const before = rt.gateway.sessionCount();
    // Two sessions opened and left without a notification stream, as an agent that went away does;
    // one SDK client that keeps its GET stream open, so it is listening and never idle.
    const [a, b] = await Promise.all([initialize(http!.url, TOKENS.alpha), initialize(http!.url, TOKENS.alpha)]);
    const [ida, idb] = [a.headers.get('mcp-session-id')!, b.headers.get('mcp-session-id')!];
    await Promise.all([a.text(), b.text()]);
    const listening = await connect(TOKENS.beta);
    expect(rt.gateway.sessionCount()).toBe(before + 3);

    clock.advance(IDLE_MS - 1);
    const alive = await listOn(http!.url, TOKENS.alpha, ida);
    expect(alive.status).toBe(200);
    await alive.text();

    clock.advance(IDLE_MS); // a is one idle period past its last request, b two
    const gone = await listOn(http!.url, TOKENS.alpha, ida);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toMatch(/^session not found: it was closed or expired; send an initialize request/);

    await http!.sweep(); // what the timer does for sessions nobody comes back to
    expect(http!.sessions()).toBe(1);
    expect((await listOn(http!.url, TOKENS.alpha, idb)).status).toBe(404);
    expect(rt.gateway.sessionCount()).toBe(before + 1);
    expect(textOf(await listening.client.callTool({ name: 'echo', arguments: { message: 'still here' } }))).toBe('Echo: still here');
    // The expired sessions gave their slots back.
    await connect(TOKENS.alpha);
    await connect(TOKENS.alpha);
    await connect(TOKENS.alpha);
  });

  it('frees everything a session held once it ends, however it ends: the session map, the session servers, every slot of the cap', async () => {
    const PER_AGENT = 15;
    await listen({ maxSessionsPerAgent: PER_AGENT });
    const before = rt.gateway.sessionCount();
    const openAll = (token: string) => Promise.all(Array.from({ length: PER_AGENT }, () => connect(token)));
    const [alphas, betas] = await Promise.all([openAll(TOKENS.alpha), openAll(TOKENS.beta)]);
    const replies = await Promise.all([...alphas, ...betas].map((a, i) => a.client.callTool({ name: 'echo', arguments: { message: `s${i}` } })));
    expect(replies.map(textOf)).toEqual([...alphas, ...betas].map((_, i) => `Echo: s${i}`));
    expect(http!.sessions()).toBe(2 * PER_AGENT);
    expect(rt.gateway.sessionCount()).toBe(before + 2 * PER_AGENT);

    await Promise.all(alphas.map((a) => a.transport.terminateSession())); // DELETE
    expect(http!.sessions()).toBe(PER_AGENT);
    expect(rt.gateway.sessionCount()).toBe(before + PER_AGENT);

    // Agents that went away without a DELETE: their streams close, the sessions expire.
    // The listener learns of a closed stream when its socket closes, a moment after the client's close() returns.
    await Promise.all(betas.map((b) => b.client.close()));
    await vi.waitFor(async () => {
      clock.advance(IDLE_MS);
      await http!.sweep();
      expect(http!.sessions()).toBe(0);
    });
    expect(rt.gateway.sessionCount()).toBe(before);

    // Every slot came back: each agent opens its whole cap again, and the listener's close frees those too.
    const again = await Promise.all([openAll(TOKENS.alpha), openAll(TOKENS.beta)]);
    expect(textOf(await again[1][PER_AGENT - 1]!.client.callTool({ name: 'echo', arguments: { message: 'last' } }))).toBe('Echo: last');
    expect(rt.gateway.sessionCount()).toBe(before + 2 * PER_AGENT);
    await http!.close();
    http = undefined;
    expect(rt.gateway.sessionCount()).toBe(before);
  });

  it('reads the limits from the gateway config file', () => {
    const doc = readConfigFile(
      'gw.yaml',
      `apiVersion: warden.dev/v1
kind: Gateway
spec:
  scope: acme
  servers: [{ name: files, command: node }]
  sessions: { maxPerAgent: 5, max: 100, idleTimeout: 10m }
`,
    );
    expect(sessionLimitsOf(doc.gateway!)).toEqual({ maxSessions: 100, maxSessionsPerAgent: 5, idleTimeoutMs: 600_000 });
    expect(() => readConfigFile('gw.yaml', `apiVersion: warden.dev/v1\nkind: Gateway\nspec: { scope: acme, servers: [{ name: f, command: n }], sessions: { maxPerAgent: 0 } }\n`)).toThrow(/maxPerAgent/);
  });
});
