import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  ResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpIdentity, listenHttp, type HttpListener } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { agent, auditEvents, inMemoryUpstream, OPEN_POLICY, policyDir, runtime } from './fixtures/gateway-harness.js';

// Hostile JSON-RPC params (issue 11, item 8): each was a -32603 with an internal message (a stack
// overflow, `Lone surrogate is not allowed`, a PostgreSQL encoding error). Each must be -32602
// with a precise message; a refused tool call or prompt get is still decided and audited, and
// nothing reaches the upstream.

const OPEN = OPEN_POLICY;

/** What the upstream received, by method. */
const received: string[] = [];

function spyServer(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {}, resources: {}, prompts: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async () => {
    received.push('tools/call');
    return { content: [{ type: 'text', text: 'ok' }] };
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'toy://ok', name: 'ok' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    received.push('resources/read');
    return { contents: [{ uri: req.params.uri, text: 'fine' }] };
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [{ name: 'hello' }] }));
  server.setRequestHandler(GetPromptRequestSchema, async () => {
    received.push('prompts/get');
    return { messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }] };
  });
  return server;
}

let rt: GatewayRuntime;
let client: Client;
let http: HttpListener;

beforeAll(async () => {
  rt = await runtime({ policies: [policyDir(OPEN)], upstreams: [inMemoryUpstream('toy', spyServer)], agentTokens: { source: 'test', agents: [{ id: 'mallory', token: 'mallory-token-0123456789' }] } });
  client = await agent(rt.gateway, { agentId: 'mallory' });
  http = await listenHttp(rt.gateway, { identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, authenticate: (bearer) => rt.core.identity.authenticate(bearer) }) });
});
afterAll(async () => {
  await client?.close();
  await http?.close();
  await rt?.close();
});

/** The JSON-RPC error of a request, or `undefined` when it succeeded. */
async function rpcError(method: string, params: unknown): Promise<{ code: number; message: string } | undefined> {
  try {
    await client.request({ method, params } as never, ResultSchema);
    return undefined;
  } catch (err) {
    const e = err as { code: number; message: string };
    return { code: e.code, message: e.message.replace(/^MCP error -?\d+: /, '') };
  }
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('tools/call and prompts/get with arguments JSON cannot carry', () => {
  it.each([
    ['JSON nested 3,000 deep', { x: nested(3000) }, /^the arguments cannot be accepted: `\/arguments\/x\/0\/0.*…` nests deeper than 64 levels of objects and arrays$/],
    ['an unpaired surrogate', { x: 'a\ud800' }, /^the arguments cannot be accepted: `\/arguments\/x` contains an unpaired UTF-16 surrogate/],
    ['an unpaired surrogate in a key', { ['\udc00']: 1 }, /^the arguments cannot be accepted: `\/arguments\/\uFFFD` is a key with an unpaired UTF-16 surrogate/],
    ['Infinity (1e999)', { n: Infinity }, /^the arguments cannot be accepted: `\/arguments\/n` must be a finite number/],
    ['NaN', { n: NaN }, /^the arguments cannot be accepted: `\/arguments\/n` must be a finite number/],
  ])('tools/call: %s is -32602, decided, audited and not forwarded', async (_what, args, message) => {
    received.length = 0;
    const before = (await auditEvents(rt)).length;
    const err = await rpcError('tools/call', { name: 'echo', arguments: args });
    expect(err?.code).toBe(-32602);
    expect(err?.message).toMatch(message);
    expect(received).toEqual([]);
    const events = (await auditEvents(rt)).slice(before);
    expect(events.map((e) => `${e.type}:${e.outcome}`)).toEqual(['tool.call.decided:success', 'tool.call.invalid_arguments:failure']);
    expect(events[0]).toMatchObject({ agent: { id: 'mallory' }, target: { name: 'toy.echo' } });
  });

  it('prompts/get: an unpaired surrogate in an argument is -32602, audited and not forwarded', async () => {
    received.length = 0;
    const before = (await auditEvents(rt)).length;
    const err = await rpcError('prompts/get', { name: 'hello', arguments: { who: '\udfff' } });
    expect(err).toEqual({ code: -32602, message: 'the arguments cannot be accepted: `/arguments/who` contains an unpaired UTF-16 surrogate; send well-formed Unicode text' });
    expect(received).toEqual([]);
    expect((await auditEvents(rt)).slice(before).map((e) => e.type)).toEqual(['prompt.get.decided', 'prompt.get.invalid_arguments']);
  });
});

describe('names and URIs no upstream can serve', () => {
  it.each([
    ['prompts/get', { name: 'hello\u0000' }, 'the prompt name contains a NUL character (U+0000); no upstream serves such a name'],
    ['prompts/get', { name: 'hello\ud800' }, 'the prompt name contains an unpaired UTF-16 surrogate; no upstream serves such a name'],
    ['resources/read', { uri: 'toy://ok\u0000' }, 'the resource URI contains a NUL character (U+0000); no upstream serves such a name'],
    ['resources/read', { uri: 'toy://ok\ud800' }, 'the resource URI contains an unpaired UTF-16 surrogate; no upstream serves such a name'],
  ])('%s %j is -32602', async (method, params, message) => {
    received.length = 0;
    expect(await rpcError(method, params)).toEqual({ code: -32602, message });
    expect(received).toEqual([]);
  });

  it.each([
    ['prompts/get', { name: 'hello', arguments: { who: 1 } }, /^the `prompts\/get` request is invalid: `params\.arguments\.who` invalid input: expected string, received number$/],
    ['resources/read', { uri: 42 }, /^the `resources\/read` request is invalid: `params\.uri` invalid input: expected string, received number$/],
    ['tools/list', { cursor: {} }, /^the `tools\/list` request is invalid: `params\.cursor` invalid input: expected string, received object$/],
    // The SDK's Server checks a tools/call's shape itself, before any handler: -32602, its wording.
    ['tools/call', { arguments: {} }, /Invalid tools\/call request: .*expected string, received undefined/s],
    ['resources/read', { uri: 'not a uri' }, /^the resource URI `not a uri` is not an absolute URI such as `file:\/\/\/notes\.txt`$/],
  ])('%s %j (params of the wrong shape) is -32602, not -32603', async (method, params, message) => {
    received.length = 0;
    const err = await rpcError(method, params);
    expect(err?.code).toBe(-32602);
    expect(err?.message).toMatch(message);
    expect(received).toEqual([]);
  });

  it('still serves well-formed requests', async () => {
    expect(await rpcError('tools/call', { name: 'echo', arguments: { x: 'ok \u0000 nul is data here', n: 1e308 } })).toBeUndefined();
    expect(await rpcError('prompts/get', { name: 'hello', arguments: { who: 'world' } })).toBeUndefined();
    expect(await rpcError('resources/read', { uri: 'toy://ok' })).toBeUndefined();
  });
});

describe('over Streamable HTTP', () => {
  /** Posts one raw JSON-RPC body in a session and returns the JSON-RPC answer. */
  async function post(body: string, sid?: string): Promise<{ sid: string | null; answer: { error?: { code: number; message: string }; result?: unknown } | undefined }> {
    const res = await fetch(http.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: 'Bearer mallory-token-0123456789',
        ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}),
      },
      body,
    });
    const text = await res.text();
    const data = text.split('\n').find((l) => l.startsWith('data: '));
    return { sid: res.headers.get('mcp-session-id'), answer: data ? JSON.parse(data.slice(6)) : text ? JSON.parse(text) : undefined };
  }

  it('answers 1e999 and 3,000-deep arguments with -32602, never -32603', async () => {
    const init = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    const sid = init.sid!;
    expect(sid).toBeTruthy();
    await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), sid);
    const inf = await post('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"n":1e999}}}', sid);
    expect(inf.answer?.error).toMatchObject({ code: -32602, message: expect.stringContaining('`/arguments/n` must be a finite number') });
    const deep = await post(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"x":${'['.repeat(3000)}${']'.repeat(3000)}}}}`, sid);
    expect(deep.answer?.error).toMatchObject({ code: -32602, message: expect.stringContaining('nests deeper than 64 levels') });
  });
});
