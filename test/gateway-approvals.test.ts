import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest, AuditEvent } from '../src/domain/index.js';
import { DECISION_META_KEY } from '../src/gateway/index.js';
import { createCore, createServerApp, type Core, type GatewayRuntime } from '../src/main/index.js';
import { EVERYTHING, agent, auditEvents, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';
import { operator } from './support/api-core.js';
import { cli } from './support/cli.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Issue 14 end to end: the official SDK client → the gateway → @modelcontextprotocol/server-everything.
// A call under a require_approval rule is held; another person approves through the API the console
// and CLI use; the held call completes and its result reaches the agent; the audit log shows the
// request, the approval and the outcome under one digest.
const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: held, scope: acme }
spec:
  rules:
    - name: echo-needs-approval
      match: { actions: [tool.call], tools: ["*echo"] }
      effect: require_approval
      message: Echoes are reviewed.
      approval: { approvers: { roles: [approver] }, timeout: 30m }
    - name: env-expires-fast
      match: { actions: [tool.call], tools: ["*get-env"] }
      effect: require_approval
      approval: { approvers: { roles: [approver] }, timeout: 2s }
    - name: sums-are-confirmed
      match: { actions: [tool.call], tools: ["*get-sum"] }
      effect: require_approval
      approval: { confirm: principal, timeout: 5m }
`;

let core: Core;
let app: FastifyInstance;
let rt: GatewayRuntime;
let client: Client;
let bob: string;
let url: string;
const configHome = mkdtempSync(join(tmpdir(), 'warden-gw-approvals-cli-'));
/** The CLI as a person holding `token`, talking to the API server. */
const warden = (token: string, ...args: string[]) => cli(args, { env: { WARDEN_URL: url, WARDEN_TOKEN: token, XDG_CONFIG_HOME: configHome } });

const meta = (r: { _meta?: Record<string, unknown> | undefined }) => r._meta?.[DECISION_META_KEY] as { refusal?: string; approval?: { id: string; digest: string } } | undefined;

/** The first pending request for `message`, as an approver lists them (waits until the held call opened it). */
async function pendingFor(message: string): Promise<ApprovalRequest> {
  for (let i = 0; i < 200; i++) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/approvals?status=pending&mine=true', headers: { authorization: `Bearer ${bob}` } });
    const found = res.json<{ approvals: ApprovalRequest[] }>().approvals.find((r) => r.subject.args?.message === message);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no pending request for ${message}`);
}

const approve = (id: string, token = bob) => app.inject({ method: 'POST', url: `/api/v1/approvals/${id}/approve`, headers: { authorization: `Bearer ${token}` }, payload: { comment: 'ok' } });

beforeAll(async () => {
  const dir = policyDir(POLICY);
  core = await createCore({ database: { memory: true }, policies: [dir] }, { logger: pino({ level: 'silent' }) });
  app = createServerApp(core, {});
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  bob = (await core.identity.createToken(operator(), { name: 'bob', role: 'approver', principal: 'bob' })).token;
  rt = await runtime({ policies: [dir], upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }], database: { shared: core }, approvalWaitMs: 4000 });
  client = await agent(rt.gateway, { agentId: 'agent-7', principal: { id: 'alice' }, scope: 'acme/platform' });
});
afterAll(async () => {
  await rt?.close();
  await app?.close();
  await core?.close();
});

describe('a call held for approval at the gateway', () => {
  it('is held, approved by another person, forwarded, and its result reaches the agent; the log ties it together by digest', async () => {
    const progress: number[] = [];
    const call = client.callTool({ name: 'echo', arguments: { message: 'ship it' } }, undefined, { onprogress: (p) => progress.push(p.progress), timeout: 30_000 });
    const request = await pendingFor('ship it');
    expect(request.subject).toMatchObject({ tool: { server: 'everything' }, args: { message: 'ship it' }, principal: 'alice', agent: 'agent-7', scope: 'acme/platform' });
    expect(request.subject.session).toBeTruthy();
    // Through the CLI: the requester may not approve its own call; another approver may.
    const alice = (await core.identity.createToken(operator(), { name: 'alice', role: 'approver', principal: 'alice' })).token;
    const self = await warden(alice, 'approvals', 'approve', request.id);
    expect(self.code).not.toBe(0);
    expect(self.stderr).toContain('approval.self');
    const listed = await warden(bob, 'approvals', 'list');
    expect(listed.stdout).toContain(request.id);
    await new Promise((r) => setTimeout(r, 2200));
    const approved = await warden(bob, 'approvals', 'approve', request.id, '--comment', 'ship it');
    expect(approved.code, approved.stderr).toBe(0);
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('Echo: ship it');
    expect(progress.length).toBeGreaterThan(0);

    await core.flush();
    const events = await auditEvents(rt);
    const about = (e: AuditEvent) => (e.details as { digest?: string } | undefined)?.digest === request.digest || e.decision?.approvalRequest?.digest === request.digest;
    const trail = events.filter(about).map((e) => `${e.type}:${e.decision?.effect ?? e.outcome}`);
    // In time order: the decision event carries the time the decision was made, just before its request was opened.
    expect(trail).toEqual([
      'tool.call.decided:require_approval',
      'approval.request.created:pending',
      'approval.request.refused:denied',
      'approval.request.approved:success',
      'tool.call.decided:allow',
    ]);
    const released = events.filter((e) => e.type === 'tool.call.decided' && e.decision?.effect === 'allow' && e.decision.approvalRequest?.id === request.id);
    expect(released).toHaveLength(1);
    expect(events.some((e) => e.type === 'tool.call.completed' && e.correlationId === released[0]!.id)).toBe(true);
  });

  it('answers after the wait budget with the request to approve, and the same call retried after approval passes without a new request', async () => {
    const first = await client.callTool({ name: 'echo', arguments: { message: 'later' } }, undefined, { timeout: 30_000 });
    expect(first.isError).toBe(true);
    expect(meta(first)).toMatchObject({ refusal: 'approval_pending' });
    const id = meta(first)!.approval!.id;
    expect(textOf(first)).toContain(id);
    expect(textOf(first)).toContain('role `approver`');
    expect(textOf(first)).toContain('send the same call again with the same arguments');
    expect((await approve(id)).statusCode).toBe(200);
    const retry = await client.callTool({ name: 'echo', arguments: { message: 'later' } });
    expect(textOf(retry)).toBe('Echo: later');
    // A once approval released one call: the same call again asks anew.
    const again = await client.callTool({ name: 'echo', arguments: { message: 'later' } }, undefined, { timeout: 30_000 });
    expect(meta(again)!.approval!.id).not.toBe(id);
  });

  it('a changed argument after approval is a new request', async () => {
    const first = await client.callTool({ name: 'echo', arguments: { message: 'v1' } }, undefined, { timeout: 30_000 });
    const id = meta(first)!.approval!.id;
    await approve(id);
    const changed = await client.callTool({ name: 'echo', arguments: { message: 'v2' } }, undefined, { timeout: 30_000 });
    expect(changed.isError).toBe(true);
    expect(meta(changed)!.approval!.id).not.toBe(id);
    expect(meta(changed)!.approval!.digest).not.toBe(meta(first)!.approval!.digest);
  });

  it('a request that expires while held denies the call, and the expiry is audited', async () => {
    const r = await client.callTool({ name: 'get-env', arguments: {} }, undefined, { timeout: 30_000 });
    expect(r.isError).toBe(true);
    expect(meta(r)).toMatchObject({ refusal: 'approval_denied' });
    expect(textOf(r)).toMatch(/expired at .* without the approvals it needs/);
    const events = await auditEvents(rt);
    expect(events.some((e) => e.type === 'approval.request.expired' && e.target?.name === meta(r)!.approval!.id)).toBe(true);
  });

  it('a denial while held denies the call with the approver and comment', async () => {
    const call = client.callTool({ name: 'echo', arguments: { message: 'nope' } }, undefined, { timeout: 30_000 });
    const request = await pendingFor('nope');
    await app.inject({ method: 'POST', url: `/api/v1/approvals/${request.id}/deny`, headers: { authorization: `Bearer ${bob}` }, payload: { comment: 'not today' } });
    const r = await call;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('denied by `bob`: not today');
  });

  it('a rule with confirm: principal asks the person the agent acts for through elicitation; yes forwards, no denies; audited, never an approver', async () => {
    const asked: string[] = [];
    let answer: boolean | 'cancel' = true;
    const [left, right] = InMemoryTransport.createLinkedPair();
    await rt.gateway.connect(right, { scope: 'acme/platform', via: 'test', agentId: 'agent-7', principal: { id: 'alice' } });
    const eliciting = new Client({ name: 'claude-like', version: '1' }, { capabilities: { elicitation: {} } });
    eliciting.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return answer === 'cancel' ? { action: 'cancel' } : { action: 'accept', content: { allow: answer } };
    });
    await eliciting.connect(left);
    const yes = await eliciting.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    expect(yes.isError, textOf(yes)).toBeFalsy();
    expect(textOf(yes)).toContain('5');
    expect(asked[0]).toContain('Agent `agent-7` asks, on your behalf');
    expect(asked[0]).toContain('"a": 2');
    answer = false;
    const no = await eliciting.callTool({ name: 'get-sum', arguments: { a: 7, b: 8 } });
    expect(no.isError).toBe(true);
    expect(textOf(no)).toContain('`alice` declined to confirm it');
    // A dismissed prompt is no answer: the request stays pending (it is not recorded as a decline).
    answer = 'cancel';
    const dismissed = await eliciting.callTool({ name: 'get-sum', arguments: { a: 4, b: 4 } }, undefined, { timeout: 30_000 });
    expect(meta(dismissed)).toMatchObject({ refusal: 'approval_pending' });
    // A client that cannot elicit is told what the call needs.
    const plain = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } }, undefined, { timeout: 30_000 });
    expect(textOf(plain)).toContain('needs the confirmation of the person the agent acts for');
    const events = await auditEvents(rt);
    expect(events.filter((e) => e.type === 'approval.request.confirmed')).toHaveLength(1);
    expect(events.some((e) => e.type === 'approval.request.denied' && (e.details as { confirmation?: string }).confirmation === 'declined')).toBe(true);
    await eliciting.close();
  });
});
