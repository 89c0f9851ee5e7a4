import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayRuntime } from '../src/main/index.js';
import { DECISION_META_KEY } from '../src/gateway/index.js';
import { EVERYTHING, POLICIES, agent, auditEvents, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';

// Real peers: the official SDK client → the gateway → @modelcontextprotocol/server-everything over stdio.
describe('gateway over server-everything (stdio upstream, drop-in naming)', () => {
  let rt: GatewayRuntime;
  let alpha: Client;
  let beta: Client;

  beforeAll(async () => {
    rt = await runtime({ policies: [policyDir(POLICIES)], upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }] });
    alpha = await agent(rt.gateway, { agentId: 'alpha' });
    beta = await agent(rt.gateway, { agentId: 'beta' });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('registers every tool it discovers as pending', async () => {
    const tools = await rt.registry.listTools({ server: 'everything' });
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(new Set(tools.map((t) => t.status))).toEqual(new Set(['pending']));
    expect(tools.find((t) => t.name === 'echo')!.pinnedHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('lists only what policy lets each agent use, under the server’s own names', async () => {
    const a = (await alpha.listTools()).tools.map((t) => t.name).sort();
    const b = (await beta.listTools()).tools.map((t) => t.name).sort();
    expect(a).toEqual(['echo', 'get-sum', 'trigger-long-running-operation']);
    expect(b).toEqual(['echo', 'trigger-long-running-operation']);
    const echo = (await alpha.listTools()).tools.find((t) => t.name === 'echo')!;
    expect(echo.inputSchema).toMatchObject({ type: 'object', required: ['message'] });
    expect(echo.annotations).toMatchObject({ readOnlyHint: true });
  });

  it('forwards an allowed call and audits its decision and its result', async () => {
    const r = await alpha.callTool({ name: 'echo', arguments: { message: 'hello' } });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe('Echo: hello');
    const events = await auditEvents(rt);
    const decided = events.filter((e) => e.type === 'tool.call.decided' && e.target?.name === 'everything.echo').at(-1)!;
    const completed = events.filter((e) => e.type === 'tool.call.completed').at(-1)!;
    expect(decided).toMatchObject({ category: 'decision', outcome: 'success', agent: { id: 'alpha' }, scope: 'acme/platform' });
    expect(completed).toMatchObject({ category: 'tool_call', outcome: 'success', target: { server: 'everything', name: 'everything.echo' }, correlationId: decided.id, details: { isError: false } });
    expect(completed.latencyMs).toBeGreaterThan(0);
  });

  it('answers a denied call with a tool error naming the message and rule, and audits the deny', async () => {
    const r = await alpha.callTool({ name: 'get-env', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('Environment variables may hold secrets.');
    expect(textOf(r)).toContain('rule `no-env`');
    expect(r._meta?.[DECISION_META_KEY]).toMatchObject({ refusal: 'policy', effect: 'deny', reasons: [{ policy: 'gateway-test', rule: 'no-env' }] });
    const events = await auditEvents(rt);
    expect(events.filter((e) => e.type === 'tool.call.decided' && e.target?.name === 'everything.get-env').at(-1)).toMatchObject({ outcome: 'denied', decision: { effect: 'deny' } });
  });

  it('gives two agents in one gateway different permissions on the same tool', async () => {
    const [a, b] = await Promise.all([alpha.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }), beta.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })]);
    expect(textOf(a)).toContain('5');
    expect(b.isError).toBe(true);
    expect(textOf(b)).toContain('the default effect of scope `acme` applies');
  });

  it('rejects arguments that break the tool’s input schema before forwarding', async () => {
    const r = await alpha.callTool({ name: 'get-sum', arguments: { a: 'two', b: 3 } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('do not match the input schema');
    expect(textOf(r)).toContain('`/a` must be number');
    const missing = await alpha.callTool({ name: 'echo', arguments: {} });
    expect(textOf(missing)).toContain('missing required field `message`');
    expect((await auditEvents(rt)).some((e) => e.type === 'tool.call.invalid_arguments')).toBe(true);
  });

  it('reports an unknown tool as a tool error', async () => {
    const r = await alpha.callTool({ name: 'nope', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('no tool named `nope`');
  });

  it('survives the upstream crashing mid-call: a clear error, then a fresh upstream', async () => {
    const upstream = rt.gateway.upstream('everything')!;
    const pid = upstream.pid!;
    const generation = upstream.generation;
    const pending = alpha.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 5 } });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const r = await pending;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/upstream server `everything` failed during the call to `trigger-long-running-operation`: .*(closed|Connection)/i);
    // The gateway is still up: the next call respawns the server and re-discovers its tools.
    const again = await alpha.callTool({ name: 'echo', arguments: { message: 'still here' } });
    expect(textOf(again)).toBe('Echo: still here');
    expect(upstream.generation).toBe(generation + 1);
    expect(upstream.pid).not.toBe(pid);
    expect((await auditEvents(rt)).some((e) => e.type === 'tool.call.failed')).toBe(true);
  });
});
