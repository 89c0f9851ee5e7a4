import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayRuntime } from '../src/main/index.js';
import { agent, inMemoryUpstream, policyDir, runtime } from './fixtures/gateway-harness.js';

// A standalone gateway (its own core) announces the approval requests it opens to the webhooks file
// it is given, with links to the API server people sign in to.
let rt: GatewayRuntime;
let receiver: Server;
const bodies: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as { port: number }).port;
  const hooks = join(mkdtempSync(join(tmpdir(), 'warden-gw-hooks-')), 'hooks.yaml');
  writeFileSync(hooks, `apiVersion: warden.dev/v1\nkind: ApprovalWebhook\nmetadata: { name: ops, scope: acme }\nspec: { url: "http://127.0.0.1:${port}/hook", secretEnv: HOOK_SECRET }\n`);
  const policy = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: held, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list] } }
    - { name: ask, effect: require_approval, match: { actions: [tool.call] }, approval: { approvers: { roles: [approver] } } }
`;
  const toy = () => {
    const s = new McpServer({ name: 'toy', version: '1' });
    s.registerTool('ping', { description: 'ping' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
    return s;
  };
  rt = await runtime({ policies: [policyDir(policy)], upstreams: [inMemoryUpstream('toy', toy)], approvalWaitMs: 200, approvalWebhooksFile: hooks, publicUrl: 'https://warden.example.com', env: { HOOK_SECRET: 'k' } });
});
afterAll(async () => {
  await rt?.close();
  receiver?.close();
});

describe('approval notifications from a standalone gateway', () => {
  it('announces a request it opens, with links to the public URL', async () => {
    const c = await agent(rt.gateway, { agentId: 'agent-1' });
    const r = await c.callTool({ name: 'ping', arguments: {} });
    expect(r.isError).toBe(true);
    for (let i = 0; i < 100 && bodies.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('https://warden.example.com/api/v1/approvals/apr_');
    expect(bodies[0]).toContain('ping');
  });
});
