import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest, Decision } from '../src/domain/index.js';
import type { Role } from '../src/identity/index.js';
import { apiCore, operator, type ApiUnderTest } from './support/api-core.js';
import { fakeClock } from './support/fake-clock.js';

// Issue 14: approval requests bound to the exact call, answered through the API by the people the
// rule names, never by the requester, its agent or the same person twice; a timeout denies.
const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: deploys, scope: acme }
spec:
  rules:
    - name: prod-needs-two
      match: { actions: [tool.call], tools: ["deploy.*"] }
      effect: require_approval
      approval: { approvers: { roles: [approver] }, count: 2, timeout: 30m }
    - name: restart-needs-one
      match: { actions: [tool.call], tools: ["ops.restart"] }
      effect: require_approval
      approval: { approvers: { roles: [approver], principals: [carol] }, timeout: 10m }
`;

const clock = fakeClock('2026-12-07T10:00:00.000Z');
let api: ApiUnderTest;
const people: Record<string, string> = {};

async function token(name: string, role: Role, extra: { principal?: string; scope?: string; agentId?: string } = {}): Promise<string> {
  return (await api.core.identity.createToken(operator(), { name, role, ...extra })).token;
}

beforeAll(async () => {
  api = await apiCore(POLICY, { clock });
  people.alice = await token('alice', 'approver', { principal: 'alice' });
  people.bob = await token('bob', 'approver', { principal: 'bob' });
  people.dave = await token('dave', 'approver', { principal: 'dave', scope: 'other' });
  people.viewer = await token('vic', 'viewer', { principal: 'vic' });
  people.carol = await token('carol', 'viewer', { principal: 'carol' });
  people.agent = await token('agent-7', 'agent', { agentId: 'agent-7' });
});
afterAll(() => api?.close());

const as = (who: string) => ({ authorization: `Bearer ${people[who] ?? api.tokens[who as Role]}` });

async function decide(args: Record<string, unknown>, tool = 'deploy.release', principal = 'alice'): Promise<Decision> {
  const res = await api.app.inject({
    method: 'POST',
    url: '/api/v1/decide',
    headers: api.auth('enforcer'),
    payload: { kind: 'tool.call', scope: 'acme/payments', agent: { id: 'agent-7' }, principal: { id: principal }, tool: { server: 'deploy', name: tool }, args, context: { time: clock.now().toISOString() } },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function answer(who: string, id: string, vote: 'approve' | 'deny', comment?: string) {
  return api.app.inject({ method: 'POST', url: `/api/v1/approvals/${id}/${vote}`, headers: as(who), payload: comment ? { comment } : {} });
}

describe('approval requests through the API', () => {
  it('a require_approval decision opens a request bound to the digest of the call, and the same call waits on it', async () => {
    const d = await decide({ environment: 'production', version: '1.2.3' });
    expect(d.effect).toBe('require_approval');
    expect(d.approvalRequest).toMatchObject({ status: 'pending', count: 2, approvals: 0, approvers: { roles: ['approver'] }, url: `/api/v1/approvals/${d.approvalRequest!.id}` });
    const again = await decide({ environment: 'production', version: '1.2.3' });
    expect(again.approvalRequest!.id).toBe(d.approvalRequest!.id);
    const got = await api.app.inject({ method: 'GET', url: d.approvalRequest!.url, headers: as('bob') });
    const r = got.json<ApprovalRequest>();
    expect(r.subject).toMatchObject({ kind: 'tool.call', scope: 'acme/payments', tool: { server: 'deploy', name: 'deploy.release' }, args: { environment: 'production', version: '1.2.3' }, principal: 'alice', agent: 'agent-7' });
    expect(r.digest).toBe(d.approvalRequest!.digest);
  });

  it('count 2 needs two distinct approvers; the requester, the agent, a second answer and a role elsewhere are refused; a retry then passes once', async () => {
    const d = await decide({ environment: 'production', version: '2.0.0' });
    const id = d.approvalRequest!.id;
    const self = await answer('alice', id, 'approve');
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ error: { code: 'approval.self' } });
    const agent = await answer('agent', id, 'approve');
    expect(agent.statusCode).toBe(403);
    // An approver at another scope does not even see the request; an auditor here sees it but may not answer.
    const elsewhere = await answer('dave', id, 'approve');
    expect(elsewhere.json()).toMatchObject({ error: { code: 'approval.not_found' } });
    const viewer = await answer('viewer', id, 'approve');
    expect(viewer.statusCode).toBe(404);
    const auditor = await answer('auditor', id, 'approve');
    expect(auditor.statusCode).toBe(403);
    expect(auditor.json()).toMatchObject({ error: { code: 'approval.not_approver' } });
    const first = await answer('bob', id, 'approve', 'looks fine');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json<ApprovalRequest>().status).toBe('pending');
    const twice = await answer('bob', id, 'approve');
    expect(twice.json()).toMatchObject({ error: { code: 'approval.already_voted' } });
    expect((await decide({ environment: 'production', version: '2.0.0' })).effect).toBe('require_approval');
    const second = await answer('owner', id, 'approve');
    // The owner token holds `owner`, not `approver`: the rule names approvers only.
    expect(second.json()).toMatchObject({ error: { code: 'approval.not_approver' } });
    people.erin = await token('erin', 'approver', { principal: 'erin', scope: 'acme' });
    const done = await answer('erin', id, 'approve');
    expect(done.json<ApprovalRequest>().status).toBe('approved');
    const released = await decide({ environment: 'production', version: '2.0.0' });
    expect(released.effect).toBe('allow');
    expect(released.approvalRequest).toMatchObject({ id, status: 'approved' });
    // `once`: the approval released one call; the next identical call asks again.
    const next = await decide({ environment: 'production', version: '2.0.0' });
    expect(next.effect).toBe('require_approval');
    expect(next.approvalRequest!.id).not.toBe(id);
  });

  it('changing one argument after approval is a new request', async () => {
    const d = await decide({ service: 'api' }, 'ops.restart');
    expect((await answer('carol', d.approvalRequest!.id, 'approve')).statusCode).toBe(200);
    const changed = await decide({ service: 'api-2' }, 'ops.restart');
    expect(changed.effect).toBe('require_approval');
    expect(changed.approvalRequest!.id).not.toBe(d.approvalRequest!.id);
    expect(changed.approvalRequest!.digest).not.toBe(d.approvalRequest!.digest);
    expect((await decide({ service: 'api' }, 'ops.restart')).effect).toBe('allow');
  });

  it('a denial denies the call, and the same call stays denied while the request runs', async () => {
    const d = await decide({ service: 'db' }, 'ops.restart');
    const no = await answer('bob', d.approvalRequest!.id, 'deny', 'not during the freeze');
    expect(no.json<ApprovalRequest>().status).toBe('denied');
    const after = await decide({ service: 'db' }, 'ops.restart');
    expect(after.effect).toBe('deny');
    expect(after.reasons.at(-1)!.message).toContain('not during the freeze');
  });

  it('a timeout denies and is audited (fake clock)', async () => {
    const d = await decide({ service: 'cache' }, 'ops.restart');
    clock.advance(11 * 60_000);
    expect(await api.core.approvals.expireDue()).toBeGreaterThanOrEqual(1);
    const late = await answer('bob', d.approvalRequest!.id, 'approve');
    expect(late.json()).toMatchObject({ error: { code: 'approval.closed' } });
    await api.core.flush();
    const events = await api.core.auditLog.list({ tenant: 'default', type: 'approval.request.expired', limit: 10 });
    expect(events.events.some((e) => e.target?.name === d.approvalRequest!.id && (e.details as { digest?: string }).digest === d.approvalRequest!.digest)).toBe(true);
    // The call asked again after expiry opens a new request.
    expect((await decide({ service: 'cache' }, 'ops.restart')).approvalRequest!.id).not.toBe(d.approvalRequest!.id);
  });

  it('another tenant sees nothing of the request', async () => {
    const d = await decide({ service: 'queue' }, 'ops.restart');
    await api.core.identity.createTenant(operator(), { id: 'globex', name: 'Globex' });
    const theirs = (await api.core.identity.createToken(operator('globex'), { name: 'g', role: 'owner', principal: 'gina' })).token;
    const res = await api.app.inject({ method: 'GET', url: d.approvalRequest!.url, headers: { authorization: `Bearer ${theirs}` } });
    expect(res.statusCode).toBe(404);
    const vote = await api.app.inject({ method: 'POST', url: `${d.approvalRequest!.url}/approve`, headers: { authorization: `Bearer ${theirs}` }, payload: {} });
    expect(vote.statusCode).toBe(404);
  });

  it('lists what waits for me, and the audit log holds request, answers and outcome with one digest', async () => {
    const mine = await api.app.inject({ method: 'GET', url: '/api/v1/approvals?status=pending&mine=true', headers: as('bob') });
    const list = mine.json<{ approvals: ApprovalRequest[] }>().approvals;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((r) => r.status === 'pending' && r.subject.principal !== 'bob')).toBe(true);
    await api.core.flush();
    for (const type of ['approval.request.created', 'approval.request.voted', 'approval.request.approved', 'approval.request.denied', 'approval.request.refused']) {
      const { events } = await api.core.auditLog.list({ tenant: 'default', type, limit: 50 });
      expect(events.length, type).toBeGreaterThan(0);
      expect(events.every((e) => typeof (e.details as { digest?: unknown }).digest === 'string' && e.target?.kind === 'approval')).toBe(true);
    }
    // Events hold the arguments' digest, never the arguments (call bodies are not captured here).
    const created = await api.core.auditLog.list({ tenant: 'default', type: 'approval.request.created', limit: 50 });
    expect(JSON.stringify(created.events)).not.toContain('production');
    expect(created.events.every((e) => typeof (e.details as { subject?: { argsDigest?: string } }).subject?.argsDigest === 'string')).toBe(true);
    const refused = await api.core.auditLog.list({ tenant: 'default', type: 'approval.request.refused', limit: 50 });
    expect(refused.events.map((e) => (e.details as { code?: string }).code)).toEqual(expect.arrayContaining(['approval.self', 'approval.already_voted', 'approval.not_approver']));
  });

  it('a name alone does not make an approver: a token named after a listed principal but holding no role at the scope is refused', async () => {
    const d = await decide({ service: 'mail' }, 'ops.restart');
    const impostor = await token('carol-elsewhere', 'viewer', { principal: 'carol', scope: 'sandbox' });
    const res = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${d.approvalRequest!.id}/approve`, headers: { authorization: `Bearer ${impostor}` }, payload: {} });
    expect(res.statusCode).toBe(404);
    expect((await answer('carol', d.approvalRequest!.id, 'approve')).statusCode).toBe(200);
  });

  it('an agent token made for a person decides on their behalf, so that person may not approve the request it opens', async () => {
    const agentForAlice = await token('agent-for-alice', 'agent', { agentId: 'agent-9', principal: 'alice' });
    const res = await api.app.inject({
      method: 'POST',
      url: '/api/v1/decide',
      headers: { authorization: `Bearer ${agentForAlice}` },
      payload: { kind: 'tool.call', scope: 'acme/payments', tool: { server: 'ops', name: 'ops.restart' }, args: { service: 'dns' } },
    });
    const d = res.json<Decision>();
    expect(d.effect).toBe('require_approval');
    people.aliceApprover = await token('alice-approver', 'approver', { principal: 'alice', scope: 'acme' });
    expect((await answer('aliceApprover', d.approvalRequest!.id, 'approve')).json()).toMatchObject({ error: { code: 'approval.self' } });
  });

  it('refuses a comment holding NUL with a 400, not a 500', async () => {
    const d = await decide({ service: 'nul' }, 'ops.restart');
    const res = await answer('bob', d.approvalRequest!.id, 'deny', 'a\u0000b');
    expect(res.statusCode).toBe(400);
  });
});
