import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/domain/index.js';
import { DECISION_META_KEY, POLICY_DENIED, RATE_LIMITED, type ResultInspector } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { agent, auditEvents, inMemoryUpstream, OPEN_POLICY, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';

// The one governed flow, over an upstream served in memory (the gateway's own logic; the real npm
// servers are covered by gateway.test.ts and gateway-resources.test.ts). Every refusal after a
// decision, for tool calls, reads and prompt gets alike, names the decision's audit event.

const OPEN = OPEN_POLICY;

const SECRET = 'the launch code is 0000';

/** A small upstream: tools, resources and prompts, some of which fail with their own JSON-RPC codes. */
function toyServer(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {}, resources: {}, prompts: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'echo', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
      { name: 'secret', inputSchema: { type: 'object' } },
      { name: 'boom', inputSchema: { type: 'object' } },
      { name: 'odd', inputSchema: { type: 'object' } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    if (req.params.name === 'boom') throw new McpError(-32050, 'the reactor is down');
    // `odd` answers text holding half a surrogate pair, which neither RFC 8785 nor jsonb accepts.
    const text = req.params.name === 'secret' ? SECRET : req.params.name === 'odd' ? 'half a pair: \ud800' : `Echo: ${String(req.params.arguments?.message)}`;
    return { content: [{ type: 'text', text }] };
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'toy://ok', name: 'ok' }, { uri: 'toy://secret', name: 'secret' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    if (req.params.uri === 'toy://ok') return { contents: [{ uri: 'toy://ok', text: 'fine' }] };
    if (req.params.uri === 'toy://secret') return { contents: [{ uri: 'toy://secret', text: SECRET }] };
    throw new McpError(-32051, `nothing at ${req.params.uri}`);
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [{ name: 'hello' }, { name: 'broken' }] }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    if (req.params.name === 'broken') throw new McpError(-32052, 'the prompt engine stalled');
    return { messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }] };
  });
  return server;
}

/** Withholds anything that carries the launch code. */
const inspector: ResultInspector = {
  async inspect(_action, result) {
    return JSON.stringify(result).includes('launch code') ? { action: 'block', message: 'it carries the launch code' } : { action: 'pass' };
  },
};

/** The error a request failed with (the SDK client throws `McpError`). */
async function failure(p: Promise<unknown>): Promise<McpError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(McpError);
  return err as McpError;
}

const metaOf = (r: { _meta?: Record<string, unknown> | undefined }) => r._meta?.[DECISION_META_KEY] as Record<string, unknown> | undefined;
const dataOf = (err: McpError) => (err.data as Record<string, unknown>)[DECISION_META_KEY] as Record<string, unknown>;

describe('the governed flow over an in-memory upstream', () => {
  let rt: GatewayRuntime;
  let alpha: Client;
  let limited: Client;
  const servers: Server[] = [];
  /** The last decision event of a type on a target, and the result event that points to it. */
  const pair = async (type: string, on: (e: AuditEvent) => boolean, result: string): Promise<[AuditEvent, AuditEvent | undefined]> => {
    const events = await auditEvents(rt);
    const decided = events.filter((e) => e.type === type && on(e)).at(-1)!;
    expect(decided).toBeDefined();
    return [decided, events.find((e) => e.type === result && e.correlationId === decided.id)];
  };

  beforeAll(async () => {
    rt = await runtime({
      policies: [policyDir(OPEN)],
      upstreams: [inMemoryUpstream('toy', () => servers[servers.push(toyServer()) - 1]!)],
      inspector,
      rateLimits: [{ agents: ['limited'], tools: ['toy.echo'], limit: 1, windowMs: 60_000 }],
    });
    alpha = await agent(rt.gateway, { agentId: 'alpha' });
    limited = await agent(rt.gateway, { agentId: 'limited' });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('discovers, forwards and audits through the transport factory', async () => {
    expect((await alpha.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'secret', 'boom', 'odd']);
    const r = await alpha.callTool({ name: 'echo', arguments: { message: 'hi' } });
    expect(textOf(r)).toBe('Echo: hi');
    const [, completed] = await pair('tool.call.decided', (e) => e.target?.name === 'toy.echo', 'tool.call.completed');
    expect(completed).toMatchObject({ outcome: 'success', target: { kind: 'tool', server: 'toy', name: 'toy.echo' }, details: { isError: false } });
    expect((await rt.registry.getTool('toy', 'echo'))?.status).toBe('pending');
  });

  it('names the decision event in a withheld tool result', async () => {
    const r = await alpha.callTool({ name: 'secret', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe('Warden withheld the result of `secret`: it carries the launch code');
    const [decided, blocked] = await pair('tool.call.decided', (e) => e.target?.name === 'toy.secret', 'tool.call.output_blocked');
    expect(metaOf(r)).toEqual({ refusal: 'output_blocked', auditEventId: decided.id });
    expect(blocked).toMatchObject({ outcome: 'denied', details: { refusal: 'output_blocked' } });
  });

  it('names the decision event in a tool result the upstream failed', async () => {
    const r = await alpha.callTool({ name: 'boom', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe('the upstream server `toy` failed during the call to `boom`: the reactor is down');
    const [decided, failed] = await pair('tool.call.decided', (e) => e.target?.name === 'toy.boom', 'tool.call.failed');
    expect(metaOf(r)).toEqual({ refusal: 'upstream_error', auditEventId: decided.id });
    expect(failed).toMatchObject({ outcome: 'error', details: { refusal: 'upstream_error' } });
  });

  it('names the decision event in invalid-argument and rate-limit refusals', async () => {
    const invalid = await alpha.callTool({ name: 'echo', arguments: {} });
    expect(textOf(invalid)).toContain('missing required field `message`');
    const [decided] = await pair('tool.call.decided', (e) => e.target?.name === 'toy.echo' && e.agent?.id === 'alpha', 'tool.call.invalid_arguments');
    expect(metaOf(invalid)).toEqual({ refusal: 'invalid_arguments', auditEventId: decided.id });

    expect((await limited.callTool({ name: 'echo', arguments: { message: 'one' } })).isError).toBeFalsy();
    const over = await limited.callTool({ name: 'echo', arguments: { message: 'two' } });
    expect(textOf(over)).toMatch(/^rate limit of 1 calls per 60000 ms exceeded for agent `limited` on `toy\.echo`/);
    const [overDecided, event] = await pair('tool.call.decided', (e) => e.agent?.id === 'limited', 'tool.call.rate_limited');
    expect(metaOf(over)).toEqual({ refusal: 'rate_limited', auditEventId: overDecided.id });
    expect(event).toMatchObject({ outcome: 'failure' });
  });

  it('answers a read the same way, as JSON-RPC errors that name the decision event', async () => {
    expect((await alpha.readResource({ uri: 'toy://ok' })).contents).toEqual([{ uri: 'toy://ok', text: 'fine' }]);
    const blocked = await failure(alpha.readResource({ uri: 'toy://secret' }));
    expect(blocked.code).toBe(POLICY_DENIED);
    const [decided] = await pair('resource.read.decided', (e) => e.target?.uri === 'toy://secret', 'resource.read.output_blocked');
    expect(dataOf(blocked)).toEqual({ refusal: 'output_blocked', auditEventId: decided.id });

    const missing = await failure(alpha.readResource({ uri: 'toy://missing' }));
    expect(missing.code).toBe(-32051);
    // The client's McpError puts the code in front of the message the gateway sent.
    expect(missing.message).toBe('MCP error -32051: the upstream server `toy` failed on the read of `toy://missing`: nothing at toy://missing');
    const [missDecided, failed] = await pair('resource.read.decided', (e) => e.target?.uri === 'toy://missing', 'resource.read.failed');
    expect(dataOf(missing)).toEqual({ refusal: 'upstream_error', auditEventId: missDecided.id });
    expect(failed).toBeDefined();
  });

  it('answers a prompt get the same way', async () => {
    expect((await alpha.getPrompt({ name: 'hello' })).messages).toHaveLength(1);
    const err = await failure(alpha.getPrompt({ name: 'broken' }));
    expect(err.code).toBe(-32052);
    expect(err.message).toBe('MCP error -32052: the upstream server `toy` failed on the prompt `broken`: the prompt engine stalled');
    const [decided] = await pair('prompt.get.decided', (e) => e.target?.name === 'toy.broken', 'prompt.get.failed');
    expect(dataOf(err)).toEqual({ refusal: 'upstream_error', auditEventId: decided.id });
  });

  it('opens a fresh transport from the factory after the upstream went away', async () => {
    const upstream = rt.gateway.upstream('toy')!;
    const generation = upstream.generation;
    await servers.at(-1)!.close();
    const r = await alpha.callTool({ name: 'echo', arguments: { message: 'again' } });
    expect(textOf(r)).toBe('Echo: again');
    expect(upstream.generation).toBe(generation + 1);
    expect(servers.length).toBe(2);
  });
});

describe('rate limits on reads, in memory', () => {
  let rt: GatewayRuntime;
  beforeAll(async () => {
    rt = await runtime({
      policies: [policyDir(OPEN)],
      upstreams: [inMemoryUpstream('toy', toyServer)],
      rateLimits: [{ resources: ['toy://*'], limit: 1, windowMs: 60_000, per: 'agent' }],
    });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('refuses the read over the limit with RATE_LIMITED and the decision event', async () => {
    const a = await agent(rt.gateway, { agentId: 'alpha' });
    await a.readResource({ uri: 'toy://ok' });
    const err = await failure(a.readResource({ uri: 'toy://ok' }));
    expect(err.code).toBe(RATE_LIMITED);
    const decided = (await auditEvents(rt)).filter((e) => e.type === 'resource.read.decided').at(-1)!;
    expect(dataOf(err)).toEqual({ refusal: 'rate_limited', auditEventId: decided.id });
  });

  it('writes the result event of a result no canonical JSON holds (unpaired surrogate), saying it was repaired', async () => {
    const rt2 = await runtime({ policies: [policyDir(OPEN)], upstreams: [inMemoryUpstream('toy', toyServer)] });
    try {
      const c = await agent(rt2.gateway, { agentId: 'alpha' });
      const r = await c.callTool({ name: 'odd', arguments: {} });
      expect(r.isError).toBeFalsy();
      const events = await auditEvents(rt2);
      const done = events.find((e) => e.type === 'tool.call.completed' && e.target?.name === 'toy.odd');
      expect(done?.payload).toMatchObject({ resultDigest: expect.stringMatching(/^sha256:/), resultDigestNote: expect.stringContaining('unpaired UTF-16 surrogates') });
      await c.close();
    } finally {
      await rt2.close();
    }
  });

  it('decides, audits and forwards a resource URI as a URL parser reads it, so another spelling cannot dodge a deny', async () => {
    const guard = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: guard, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call, resource.list, resource.read, prompt.get] } }
    - { name: no-secret, effect: deny, match: { actions: [resource.read], resources: ["toy://secret*"] } }
`;
    const rt3 = await runtime({ policies: [policyDir(guard)], upstreams: [inMemoryUpstream('toy', toyServer)] });
    try {
      const c = await agent(rt3.gateway, { agentId: 'alpha' });
      for (const uri of ['TOY://secret', 'Toy://secret', 'toy://secret/.', 'toy://secret/x/..']) {
        const err = await failure(c.readResource({ uri }));
        expect(err.code, uri).toBe(POLICY_DENIED);
      }
      const decided = (await auditEvents(rt3)).filter((e) => e.type === 'resource.read.decided');
      expect(decided.map((e) => (e.target as { uri?: string }).uri)).toEqual(['toy://secret', 'toy://secret', 'toy://secret/', 'toy://secret/']);
      expect(decided.every((e) => e.decision?.effect === 'deny')).toBe(true);
      await c.close();
    } finally {
      await rt3.close();
    }
  });
});
