import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayRuntime } from '../src/main/index.js';
import type { Action } from '../src/domain/index.js';
import { DECISION_META_KEY, POLICY_DENIED, RATE_LIMITED, type InspectedResult, type InspectionOutcome, type ResourceResult, type ResultInspector } from '../src/gateway/index.js';
import { EVERYTHING, agent, auditEvents, policyDir, runtime } from './fixtures/gateway-harness.js';

// Resources and prompts are governed like tools: filtered listings, decided reads and prompt gets,
// audited decisions and results, the result inspector. Real peers: SDK client → gateway → server-everything.

const POLICIES = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: deny }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: resources-test, scope: acme }
spec:
  rules:
    - name: list-resources
      match: { actions: [resource.list] }
      effect: allow
    - name: alpha-reads
      match: { actions: [resource.read], agents: [alpha] }
      effect: allow
    - name: no-second-server
      match: { actions: [resource.read], servers: [two] }
      effect: deny
      message: The second server's resources are off limits.
    - name: open-prompts
      match: { actions: [prompt.get], tools: ["*.simple-prompt", "*.args-prompt", "one.*"] }
      effect: allow
    - name: links
      match: { actions: [tool.call], tools: ["*.get-resource-links"] }
      effect: allow
    - name: no-resource-prompt
      match: { actions: [prompt.get], tools: ["*.resource-prompt"] }
      effect: deny
      message: Prompts that embed resources need review.
`;

const ARCH = 'demo://resource/static/document/architecture.md';
const FEATURES = 'demo://resource/static/document/features.md';

/** The error a request failed with (the SDK client throws `McpError`). */
async function failure(p: Promise<unknown>): Promise<McpError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(McpError);
    return err as McpError;
  }
  throw new Error('the request did not fail');
}

/** Withholds `features.md`, redacts the word "Architecture", records what it saw. */
function testInspector(seen: Array<{ kind: string; target: string }>): ResultInspector {
  return {
    async inspect(action: Action, result: InspectedResult): Promise<InspectionOutcome> {
      seen.push({ kind: action.kind, target: action.resource?.uri ?? action.tool?.name ?? '?' });
      if (action.kind === 'resource.read' && action.resource?.uri === FEATURES) return { action: 'block', message: 'the document is confidential' };
      if (action.kind === 'resource.read') {
        const read = result as ResourceResult;
        return { action: 'replace', result: { ...read, contents: read.contents.map((c) => (typeof c.text === 'string' ? { ...c, text: c.text.replaceAll('Architecture', '[REDACTED]') } : c)) } };
      }
      return { action: 'pass' };
    },
  };
}

describe('resources and prompts through the gateway (one upstream, drop-in naming)', () => {
  let rt: GatewayRuntime;
  let alpha: Client;
  let beta: Client;
  const seen: Array<{ kind: string; target: string }> = [];

  beforeAll(async () => {
    rt = await runtime({ policies: [policyDir(POLICIES)], upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }], inspector: testInspector(seen) });
    alpha = await agent(rt.gateway, { agentId: 'alpha' });
    beta = await agent(rt.gateway, { agentId: 'beta' });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('advertises resources and prompts', () => {
    expect(alpha.getServerCapabilities()).toMatchObject({ tools: {}, resources: {}, prompts: {} });
  });

  it('lists only the resources and templates policy lets each agent read, under their own URIs', async () => {
    const a = (await alpha.listResources()).resources.map((r) => r.uri);
    expect(a).toContain(ARCH);
    expect(a.length).toBeGreaterThanOrEqual(5);
    expect((await beta.listResources()).resources).toEqual([]);
    const templates = (await alpha.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
    expect((await beta.listResourceTemplates()).resourceTemplates).toEqual([]);
    const listed = (await auditEvents(rt)).filter((e) => e.type === 'resource.list.decided');
    expect(listed.length).toBeGreaterThanOrEqual(4);
  });

  it('forwards an allowed read, passes it through the inspector and audits decision and result', async () => {
    const r = await alpha.readResource({ uri: ARCH });
    expect(r.contents[0]).toMatchObject({ uri: ARCH, mimeType: 'text/markdown' });
    const text = (r.contents[0] as { text: string }).text;
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain('Architecture');
    expect(seen).toContainEqual({ kind: 'resource.read', target: ARCH });
    const events = await auditEvents(rt);
    const decided = events.filter((e) => e.type === 'resource.read.decided' && e.target?.uri === ARCH).at(-1)!;
    const completed = events.filter((e) => e.type === 'resource.read.completed').at(-1)!;
    expect(decided).toMatchObject({ category: 'decision', outcome: 'success', agent: { id: 'alpha' }, target: { kind: 'resource', server: 'everything', uri: ARCH } });
    expect(completed).toMatchObject({ outcome: 'success', action: { kind: 'resource.read' }, target: { kind: 'resource', server: 'everything', uri: ARCH }, correlationId: decided.id });
    expect(completed.latencyMs).toBeGreaterThan(0);
  });

  it('reads through a resource template', async () => {
    const r = await alpha.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(r.contents[0]).toMatchObject({ uri: 'demo://resource/dynamic/text/7' });
  });

  it('answers a denied read with a JSON-RPC error naming the deciding rule, and audits the deny', async () => {
    const err = await failure(beta.readResource({ uri: ARCH }));
    expect(err.code).toBe(POLICY_DENIED);
    expect(err.message).toContain('Warden denied this read');
    expect(err.message).toContain('the default effect of scope `acme` applies');
    expect((err.data as Record<string, unknown>)[DECISION_META_KEY]).toMatchObject({ refusal: 'policy', effect: 'deny' });
    const events = await auditEvents(rt);
    expect(events.filter((e) => e.type === 'resource.read.decided' && e.agent?.id === 'beta').at(-1)).toMatchObject({ outcome: 'denied', decision: { effect: 'deny' } });
    expect(events.some((e) => e.type === 'resource.read.completed' && e.agent?.id === 'beta')).toBe(false);
  });

  it('lets the inspector withhold a read result', async () => {
    const err = await failure(alpha.readResource({ uri: FEATURES }));
    expect(err.code).toBe(POLICY_DENIED);
    expect(err.message).toContain('the document is confidential');
    expect((err.data as Record<string, unknown>)[DECISION_META_KEY]).toMatchObject({ refusal: 'output_blocked' });
    expect((await auditEvents(rt)).some((e) => e.type === 'resource.read.output_blocked' && e.target?.uri === FEATURES)).toBe(true);
  });

  it('reports an upstream error on a read as an error, not a hang', async () => {
    const err = await failure(alpha.readResource({ uri: 'demo://resource/nope' }));
    expect(err.message).toContain('the upstream server `everything` failed');
    expect((await auditEvents(rt)).some((e) => e.type === 'resource.read.failed')).toBe(true);
  });

  it('lists only the prompts policy allows', async () => {
    const names = (await alpha.listPrompts()).prompts.map((p) => p.name).sort();
    expect(names).toEqual(['args-prompt', 'simple-prompt']);
  });

  it('forwards an allowed prompt get with its arguments and audits it', async () => {
    const r = await alpha.getPrompt({ name: 'args-prompt', arguments: { city: 'Lisbon' } });
    expect(JSON.stringify(r.messages)).toContain('Lisbon');
    expect(seen).toContainEqual({ kind: 'prompt.get', target: 'everything.args-prompt' });
    const events = await auditEvents(rt);
    const decided = events.filter((e) => e.type === 'prompt.get.decided').at(-1)!;
    expect(decided).toMatchObject({ outcome: 'success', action: { kind: 'prompt.get' }, target: { server: 'everything', name: 'everything.args-prompt' }, payload: { argsDigest: expect.stringMatching(/^sha256:/) } });
    expect(events.filter((e) => e.type === 'prompt.get.completed').at(-1)).toMatchObject({ target: { kind: 'prompt', server: 'everything', name: 'everything.args-prompt' }, correlationId: decided.id });
  });

  it('answers a denied prompt get with the policy’s message and rule', async () => {
    const err = await failure(alpha.getPrompt({ name: 'resource-prompt', arguments: { resourceType: 'Text', resourceId: '1' } }));
    expect(err.code).toBe(POLICY_DENIED);
    expect(err.message).toContain('Prompts that embed resources need review.');
    expect(err.message).toContain('rule `no-resource-prompt`');
    expect((err.data as Record<string, unknown>)[DECISION_META_KEY]).toMatchObject({ refusal: 'policy', reasons: [{ policy: 'resources-test', rule: 'no-resource-prompt' }] });
    expect((await auditEvents(rt)).filter((e) => e.type === 'prompt.get.decided').at(-1)).toMatchObject({ outcome: 'denied' });
  });

  it('decides before asking the upstream: an unknown prompt meets the scope default', async () => {
    const err = await failure(alpha.getPrompt({ name: 'nope' }));
    expect(err.code).toBe(POLICY_DENIED);
    expect(err.message).toContain('the default effect of scope `acme` applies');
  });
});

describe('resources and prompts aggregated from two upstreams (namespaced)', () => {
  let rt: GatewayRuntime;
  let alpha: Client;

  beforeAll(async () => {
    rt = await runtime({
      policies: [policyDir(POLICIES)],
      upstreams: [
        { name: 'one', command: process.execPath, args: [EVERYTHING, 'stdio'] },
        { name: 'two', command: process.execPath, args: [EVERYTHING, 'stdio'] },
      ],
    });
    alpha = await agent(rt.gateway, { agentId: 'alpha' });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('lists resources as `server+uri`, only from the server policy lets the agent read', async () => {
    const uris = (await alpha.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain(`one+${ARCH}`);
    expect(uris.every((u) => u.startsWith('one+'))).toBe(true);
    const templates = (await alpha.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toContain('one+demo://resource/dynamic/text/{resourceId}');
    expect(templates.some((t) => t.startsWith('two+'))).toBe(false);
  });

  it('reads from the right server and shows the namespaced URI back', async () => {
    const r = await alpha.readResource({ uri: `one+${ARCH}` });
    expect(r.contents[0]!.uri).toBe(`one+${ARCH}`);
    const dynamic = await alpha.readResource({ uri: 'one+demo://resource/dynamic/text/3' });
    expect(dynamic.contents[0]!.uri).toBe('one+demo://resource/dynamic/text/3');
    const decided = (await auditEvents(rt)).filter((e) => e.type === 'resource.read.decided').at(-1)!;
    expect(decided.target).toMatchObject({ kind: 'resource', server: 'one', uri: 'demo://resource/dynamic/text/3' });
  });

  it('namespaces the resource links a tool returns, so the agent can read them through the gateway', async () => {
    const r = await alpha.callTool({ name: 'one.get-resource-links', arguments: { count: 2 } });
    const links = (r.content as Array<{ type: string; uri?: string }>).filter((c) => c.type === 'resource_link');
    expect(links.length).toBe(2);
    expect(links.every((l) => l.uri!.startsWith('one+demo://'))).toBe(true);
    const read = await alpha.readResource({ uri: links[0]!.uri! });
    expect(read.contents[0]!.uri).toBe(links[0]!.uri);
  });

  it('denies a read on the other server with its rule', async () => {
    const err = await failure(alpha.readResource({ uri: `two+${ARCH}` }));
    expect(err.code).toBe(POLICY_DENIED);
    expect(err.message).toContain("The second server's resources are off limits.");
    expect(err.message).toContain('rule `no-second-server`');
  });

  it('answers an unknown server prefix as resource not found', async () => {
    const err = await failure(alpha.readResource({ uri: `three+${ARCH}` }));
    expect(err.code).toBe(-32002);
  });

  it('lists prompts as `server.prompt` and governs each by its qualified name', async () => {
    const names = (await alpha.listPrompts()).prompts.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['one.simple-prompt', 'one.args-prompt', 'one.completable-prompt', 'two.simple-prompt', 'two.args-prompt']));
    expect(names).not.toContain('two.completable-prompt');
    expect(names.some((n) => n.endsWith('.resource-prompt'))).toBe(false);
    const ok = await alpha.getPrompt({ name: 'one.simple-prompt' });
    expect(JSON.stringify(ok.messages)).toContain('simple prompt');
    const err = await failure(alpha.getPrompt({ name: 'two.completable-prompt', arguments: { department: 'Engineering', name: 'Alice' } }));
    expect(err.code).toBe(POLICY_DENIED);
  });

  it('lets a deny on a prompt win over a broader allow', async () => {
    // one.* is allowed (rule open-prompts) but resource-prompt is denied everywhere: deny wins.
    const err = await failure(alpha.getPrompt({ name: 'one.resource-prompt', arguments: { resourceType: 'Text', resourceId: '1' } }));
    expect(err.message).toContain('rule `no-resource-prompt`');
  });
});

describe('rate limits on reads and prompt gets', () => {
  let rt: GatewayRuntime;
  let alpha: Client;
  beforeAll(async () => {
    rt = await runtime({
      policies: [policyDir(POLICIES)],
      upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }],
      rateLimits: [
        { agents: ['alpha'], resources: ['demo://resource/static/*'], limit: 2, windowMs: 60_000 },
        { agents: ['alpha'], prompts: ['*.simple-prompt'], limit: 1, windowMs: 60_000, per: 'agent' },
      ],
    });
    alpha = await agent(rt.gateway, { agentId: 'alpha' });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('counts reads per agent and resource, refuses the one over the limit with a JSON-RPC error, and audits it', async () => {
    await alpha.readResource({ uri: ARCH });
    await alpha.readResource({ uri: ARCH });
    const err = await failure(alpha.readResource({ uri: ARCH }));
    expect(err.code).toBe(RATE_LIMITED);
    expect(err.message).toMatch(/rate limit of 2 calls per 60000 ms exceeded for agent `alpha` on `demo:\/\/resource\/static\/document\/architecture\.md`/);
    // Another resource has its own counter (per agent and resource), and templates outside the globs are not counted.
    await alpha.readResource({ uri: FEATURES });
    await alpha.readResource({ uri: 'demo://resource/dynamic/text/1' });
    await alpha.readResource({ uri: 'demo://resource/dynamic/text/1' });
    await alpha.readResource({ uri: 'demo://resource/dynamic/text/1' });
    await rt.gateway.flushResults();
    const limited = (await auditEvents(rt)).filter((e) => e.type === 'resource.read.rate_limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ outcome: 'failure', target: { kind: 'resource', uri: ARCH }, details: { refusal: 'rate_limited' } });
  });

  it('limits prompt gets by their qualified name and leaves tool calls alone', async () => {
    await alpha.getPrompt({ name: 'simple-prompt' });
    const err = await failure(alpha.getPrompt({ name: 'simple-prompt' }));
    expect(err.code).toBe(RATE_LIMITED);
    expect((await alpha.getPrompt({ name: 'args-prompt', arguments: { city: 'Oslo' } })).messages.length).toBeGreaterThan(0);
  });
});
