import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { narrowingLosses } from '../src/checkpoint/index.js';
import { createHttpIdentity, listenHttp, type HttpListener } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { policy, setOf, settings } from '../src/policy/test-helpers.js';
import { inMemoryUpstream, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';

// X-Warden-Scope may narrow an agent's scope, but never to a subscope where a policy's `exclude`
// lifts a deny or require_approval rule (or a scan section, or a stricter default) that holds at
// the agent's own scope, unless the agent's binding lists that subscope.

const ALLOW_ALL = '    - { name: all, effect: allow, match: { actions: [tool.call, tool.list] } }\n';
const DENY_DROP = '    - { name: no-drop, effect: deny, match: { actions: [tool.call], tools: ["*.drop_table"] } }\n';

describe('narrowingLosses', () => {
  it('names an enforce-mode deny or require_approval rule that an exclude lifts at the requested scope', () => {
    const set = setOf(policy('guard', 't/p', DENY_DROP + '    - { name: ask, effect: require_approval, match: { actions: [tool.call] }, approval: { approvers: { roles: [ops] } } }\n', 'exclude: [t/p/sandbox]'));
    const lost = narrowingLosses(set, 't/p', 't/p/sandbox/deep');
    expect(lost).toEqual([
      { kind: 'rule', policy: 'guard', rule: 'no-drop', effect: 'deny', exclude: 't/p/sandbox' },
      { kind: 'rule', policy: 'guard', rule: 'ask', effect: 'require_approval', exclude: 't/p/sandbox' },
    ]);
    expect(narrowingLosses(set, 't/p', 't/p/payments')).toEqual([]);
    expect(narrowingLosses(set, 't/p', 't/p')).toEqual([]);
  });

  it('ignores allow rules, warn-mode rules and rules that can never match the subject', () => {
    const set = setOf(
      policy('open', 't/p', ALLOW_ALL, 'exclude: [t/p/sandbox]'),
      policy('observe', 't/p', DENY_DROP, 'exclude: [t/p/sandbox], mode: warn'),
      policy('others', 't/p', '    - { name: beta-only, effect: deny, match: { agents: [beta] } }\n    - { name: admins, effect: deny, match: { roles: [admin] } }\n', 'exclude: [t/p/sandbox]'),
    );
    expect(narrowingLosses(set, 't/p', 't/p/sandbox', { agentId: 'alpha', roles: ['dev'] })).toEqual([]);
    expect(narrowingLosses(set, 't/p', 't/p/sandbox', { agentId: 'beta' }).map((l) => l.kind === 'rule' && l.rule)).toEqual(['beta-only']);
    // Without a subject every rule counts.
    expect(narrowingLosses(set, 't/p', 't/p/sandbox')).toHaveLength(2);
  });

  it('names a scan section lifted by an exclude and a default effect that gets weaker', () => {
    const scan = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: scanning, scope: t/p, exclude: [t/p/sandbox] }
spec:
  scan: { detectors: [secret], on: [input], redact: [secret] }
  rules:
${ALLOW_ALL}`;
    const set = setOf(scan, settings('t', '{ defaultEffect: deny }'), settings('t/p/open', '{ defaultEffect: allow }'));
    expect(narrowingLosses(set, 't/p', 't/p/sandbox')).toEqual([{ kind: 'scan', policy: 'scanning', exclude: 't/p/sandbox' }]);
    expect(narrowingLosses(set, 't/p', 't/p/open')).toEqual([{ kind: 'default', bound: 'deny', requested: 'allow', from: 't/p/open' }]);
    // A stricter subscope, or one with more rules of its own, loses nothing.
    expect(narrowingLosses(setOf(settings('t/p/strict', '{ defaultEffect: deny }'), settings('t', '{ defaultEffect: allow }')), 't/p', 't/p/strict')).toEqual([]);
  });
});

const POLICIES = `${policy('open', 'acme', ALLOW_ALL)}---
${policy('guard', 'acme/platform', DENY_DROP, 'exclude: [acme/platform/sandbox]')}`;
const TOKENS = { alpha: 'alpha-token-0123456789', gamma: 'gamma-token-0123456789' };

describe('X-Warden-Scope over Streamable HTTP', () => {
  let rt: GatewayRuntime;
  let http: HttpListener;
  const called: string[] = [];
  beforeAll(async () => {
    const spy = () => {
      const s = new Server({ name: 'db', version: '1' }, { capabilities: { tools: {} } });
      s.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'drop_table', inputSchema: { type: 'object' } }] }));
      s.setRequestHandler(CallToolRequestSchema, async (req) => {
        called.push(req.params.name);
        return { content: [{ type: 'text', text: 'dropped' }] };
      });
      return s;
    };
    const agents = [
      { id: 'alpha', token: TOKENS.alpha },
      { id: 'gamma', token: TOKENS.gamma, scopes: ['acme/platform/sandbox'] },
    ];
    rt = await runtime({ policies: [policyDir(POLICIES)], upstreams: [inMemoryUpstream('db', spy)], agentTokens: { source: 'test', agents } });
    http = await listenHttp(rt.gateway, {
      identify: createHttpIdentity({ scope: 'acme/platform', policies: rt.policies, agents, authenticate: (bearer) => rt.core.identity.authenticate(bearer) }),
    });
  });
  afterAll(async () => {
    await http?.close();
    await rt?.close();
  });

  const initialize = (token: string, scope: string) =>
    fetch(http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'x-warden-scope': scope },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
  const connect = async (token: string, scope: string) => {
    const c = new Client({ name: 'scope-test', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${token}`, 'x-warden-scope': scope } } }));
    return c;
  };

  it('refuses narrowing into an excluded subscope with 403 and a coded JSON error naming the rule', async () => {
    for (const scope of ['acme/platform/sandbox', 'acme/platform/sandbox/deeper']) {
      const res = await initialize(TOKENS.alpha, scope);
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: { message: string; data: { code: string } } };
      expect(body.error.data.code).toBe('gateway.scope_refused');
      expect(body.error.message).toContain('the deny rule `no-drop` of policy `guard` applies at `acme/platform`');
      expect(body.error.message).toContain("list `" + scope + "` in the agent's `scopes`");
    }
    expect(called).toEqual([]);
  });

  it('refuses widening and malformed scopes with the same code', async () => {
    for (const scope of ['acme', 'other/place', 'acme/platform/../x']) {
      const res = await initialize(TOKENS.alpha, scope);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe('gateway.scope_refused');
    }
  });

  it('still narrows where every rule keeps applying, and the deny still bites there', async () => {
    const c = await connect(TOKENS.alpha, 'acme/platform/payments');
    const r = await c.callTool({ name: 'drop_table', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('no-drop');
    await c.close();
  });

  it('lets an agent whose binding lists the subscope narrow to it (and below)', async () => {
    const c = await connect(TOKENS.gamma, 'acme/platform/sandbox/deeper');
    const r = await c.callTool({ name: 'drop_table', arguments: {} });
    expect(textOf(r)).toBe('dropped');
    expect(called).toEqual(['drop_table']);
    await c.close();
  });
});
