import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../src/checkpoint/index.js';
import { createHttpIdentity, listenHttp, type HttpListener } from '../src/gateway/index.js';
import { createCore, startGateway, type Core, type GatewayRuntime } from '../src/main/index.js';
import { opsHandler } from '../src/main/ops-endpoints.js';
import { auditEvents, inMemoryUpstream, OPEN_POLICY, policyDir } from './fixtures/gateway-harness.js';
import { operator } from './support/api-core.js';

// Metrics and traces of a real governed call: the official MCP SDK client over Streamable HTTP, the
// gateway on a core with an in-memory span exporter (the OpenTelemetry SDK's own), and the scrape of
// /metrics and the probes on the gateway's port.

const quiet = pino({ level: 'silent' });
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const SCRAPE_TOKEN = 'scrape-token-0123456789abcdef';

/** What the upstream saw in `_meta.traceparent`, per call. */
const seenUpstream: Array<string | undefined> = [];

function toy(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    seenUpstream.push(req.params._meta?.traceparent as string | undefined);
    return { content: [{ type: 'text', text: `echo: ${String(req.params.arguments?.message)}` }] };
  });
  return server;
}

let core: Core;
let rt: GatewayRuntime;
let http: HttpListener;
let token: string;
const exporter = new InMemorySpanExporter();

async function client(headers: Record<string, string> = {}): Promise<Client> {
  const c = new Client({ name: 'obs-test', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${token}`, ...headers } } }));
  return c;
}

async function spans(): Promise<ReadableSpan[]> {
  await core.telemetry.tracing.flush();
  return exporter.getFinishedSpans();
}

const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, http.url), { headers });

beforeAll(async () => {
  const policies = policyDir(OPEN_POLICY);
  core = await createCore({ database: { memory: true }, policies: [policies] }, { logger: quiet, spanExporter: exporter });
  rt = await startGateway({
    policies: [policies],
    scope: 'acme/platform',
    // A second upstream nobody listens on: readiness names it.
    upstreams: [inMemoryUpstream('toy', toy), { name: 'gone', url: 'http://127.0.0.1:9/mcp' }],
    database: { shared: core },
    upstreamStderr: 'ignore',
    logger: quiet,
  });
  http = await listenHttp(rt.gateway, {
    identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, agents: [], authenticate: (b) => core.identity.authenticate(b) }),
    tokens: core.identity,
    audit: rt.audit,
    logger: quiet,
    ops: opsHandler({ metrics: core.telemetry.metrics, token: SCRAPE_TOKEN, readiness: rt.readiness }, { metricsOnlyWithToken: true }),
  });
  token = (await core.identity.createToken(operator(), { name: 'a', role: 'agent', agentId: 'a1' })).token;
});

afterAll(async () => {
  await http?.close();
  await rt?.close();
  await core?.close();
});

describe('traces', () => {
  it('joins the trace of the HTTP traceparent: one span per checkpoint stage under the checkpoint span, an upstream span whose context goes upstream, and the decision event carries the trace id', async () => {
    exporter.reset();
    seenUpstream.length = 0;
    const c = await client({ traceparent: `00-${TRACE}-${PARENT}-01` });
    try {
      const r = await c.callTool({ name: 'toy.echo', arguments: { message: 'hi' } });
      expect(r.isError).toBeFalsy();
    } finally {
      await c.close();
    }
    const all = (await spans()).filter((s) => s.spanContext().traceId === TRACE);
    const pass = all.filter((s) => s.name === 'warden.checkpoint' && s.attributes['gen_ai.tool.name'] === 'toy.echo');
    expect(pass).toHaveLength(1);
    const checkpoint = pass[0]!;
    expect(checkpoint.parentSpanContext?.spanId).toBe(PARENT);
    expect(checkpoint.attributes).toMatchObject({ 'warden.decision.effect': 'allow', 'mcp.method.name': 'tools/call', 'gen_ai.operation.name': 'execute_tool', 'gen_ai.agent.id': 'a1' });
    const stages = all.filter((s) => s.parentSpanContext?.spanId === checkpoint.spanContext().spanId).map((s) => s.name);
    expect(stages).toEqual(STAGES.map((s) => `warden.checkpoint.${s.name}`));

    const upstream = all.find((s) => s.name === 'tools/call toy.echo');
    expect(upstream?.parentSpanContext?.spanId).toBe(PARENT);
    expect(seenUpstream).toEqual([`00-${TRACE}-${upstream!.spanContext().spanId}-01`]);

    const decided = (await auditEvents(rt)).filter((e) => e.type === 'tool.call.decided').at(-1)!;
    expect(decided.trace).toEqual({ traceId: TRACE, spanId: checkpoint.spanContext().spanId });
    expect(checkpoint.attributes['warden.audit.event_id']).toBe(decided.id);
  });

  it('takes the trace context from the request _meta over the header, and starts a new trace for a malformed one without failing the call', async () => {
    exporter.reset();
    seenUpstream.length = 0;
    const other = 'a'.repeat(32);
    const c = await client({ traceparent: `00-${TRACE}-${PARENT}-01` });
    try {
      expect((await c.callTool({ name: 'toy.echo', arguments: { message: 'meta' }, _meta: { traceparent: `00-${other}-${'b'.repeat(16)}-01` } })).isError).toBeFalsy();
      expect((await c.callTool({ name: 'toy.echo', arguments: { message: 'bad' }, _meta: { traceparent: '00-zz-not-a-trace' } })).isError).toBeFalsy();
    } finally {
      await c.close();
    }
    const checkpoints = (await spans()).filter((s) => s.name === 'warden.checkpoint' && s.attributes['gen_ai.tool.name'] === 'toy.echo');
    expect(checkpoints.map((s) => s.spanContext().traceId)[0]).toBe(other);
    // The malformed one: a fresh trace of Warden's own (the exporter records), never the caller's garbage.
    expect(checkpoints[1]!.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(checkpoints[1]!.spanContext().traceId).not.toBe(other);
    expect(seenUpstream[0]).toMatch(new RegExp(`^00-${other}-[0-9a-f]{16}-01$`));
  });
});

describe('/metrics and the probes on the gateway port', () => {
  it('refuses /metrics without the scrape token or with a wrong one, before any MCP authentication', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
  });

  it('exposes decisions, stage latency, upstream latency, audit commits and queue depth, and pending approvals, with no tenant or agent in any label', async () => {
    const c = await client();
    try {
      await c.callTool({ name: 'toy.echo', arguments: { message: 'count me' } });
    } finally {
      await c.close();
    }
    await rt.audit.flush();
    const res = await get('/metrics', { authorization: `Bearer ${SCRAPE_TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('warden_decisions_total{kind="tool.call",effect="allow"}')).toBeGreaterThanOrEqual(1);
    expect(value('warden_policy_rule_decisions_total{policy="open",rule="all",effect="allow"}')).toBeGreaterThanOrEqual(1);
    for (const s of STAGES) expect(value(`warden_checkpoint_stage_seconds_count{stage="${s.name}"}`)).toBeGreaterThanOrEqual(1);
    expect(value('warden_upstream_request_seconds_count{server="toy",kind="tool.call",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value('warden_audit_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('warden_audit_queue_depth')).toBe(0);
    expect(value('warden_approvals_pending')).toBe(0);
    expect(text).toMatch(/^# TYPE warden_stream_lag_events gauge$/m);
    const labelNames = new Set(text.split('\n').filter((l) => !l.startsWith('#')).flatMap((l) => [...(/\{([^}]*)\}/.exec(l)?.[1] ?? '').matchAll(/(\w+)="/g)].map((m) => m[1]!)));
    expect([...labelNames].sort()).toEqual(['destination', 'effect', 'kind', 'le', 'outcome', 'pass', 'policy', 'rule', 'server', 'stage', 'state', 'verdict', 'mode', 'refusal', 'category', 'severity', 'would_be'].filter((n) => labelNames.has(n)).sort());
    expect(text).not.toMatch(/="a1"/);
  });

  it('answers /healthz, and /readyz with 503 naming the upstream that does not answer, the database writable', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.status).toBe('not_ready');
    expect(body.checks.database).toMatchObject({ ok: true, detail: 'pglite, writable' });
    expect(body.checks.upstreams).toMatchObject({ ok: false });
    expect(body.checks.upstreams!.detail).toContain('gone');
    expect(body.checks.upstreams!.detail).toBe('not connected: gone');
  });

  it('still serves only /mcp and the probes: any other path is 404', async () => {
    expect((await get('/nope')).status).toBe(404);
  });
});
