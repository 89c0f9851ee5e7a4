import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseService, type CaseService, type Mitigator, type OpenCaseInput } from '../src/abuse/index.js';
import type { Case, ProposedMitigation } from '../src/domain/index.js';
import type { Role } from '../src/identity/index.js';
import { createServerApp } from '../src/main/index.js';
import { createCaseRepo } from '../src/store/index.js';
import { apiCore, operator, roleTokens, type ApiUnderTest } from './support/api-core.js';
import { fakeClock } from './support/fake-clock.js';

// Issue 15 items 3 and 5 over REST: who may work the queue, one claim at a time, decisions by the
// claimer through the mitigator, precision, escalation, labels with a reason and an expiry, tenants.
const clock = fakeClock('2026-12-07T10:00:00.000Z');
let api: ApiUnderTest;
let app: FastifyInstance;
let cases: CaseService;
const people: Record<string, string> = {};
const applied: { proposed: readonly ProposedMitigation[]; caseId?: string | undefined }[] = [];
const undone: string[] = [];

/** A recording double of the Mitigator port (the rule engine's lands separately). */
const mitigator: Mitigator = {
  apply: async (input) => {
    applied.push({ proposed: input.proposed, caseId: input.caseId });
    return { mitigations: input.proposed.map((p, i) => `mit_${applied.length}_${i}_${p.kind}`), suspended: false, labelsAdded: [] };
  },
  undo: async (c) => void undone.push(c.id),
};

const open = (over: Partial<OpenCaseInput> = {}): Promise<Case> =>
  cases.open({
    tenantId: 'default',
    category: 'exfiltration',
    severity: 'high',
    scope: 'acme/payments',
    subject: { kind: 'agent', id: 'agent-7' },
    summary: 'uploads to an unknown host',
    source: { kind: 'rule', rule: 'exfil-burst' },
    evidence: { eventIds: [], findings: [], labels: [], features: { uploads_1m: 12 } },
    mitigations: [],
    proposed: [{ kind: 'deny', forMs: 3_600_000 }, { kind: 'kill' }],
    ...over,
  });

beforeAll(async () => {
  api = await apiCore('apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n', { clock });
  // The core's own case service, but over the recording mitigator (core.ts wires NO_MITIGATOR until the rule engine lands).
  cases = createCaseService({ store: createCaseRepo(api.core.database.db), mitigator: () => mitigator, audit: api.core.audit, clock, queues: [{ name: 'payments', scopes: ['acme/payments'], categories: [], slaMs: 3_600_000, escalateTo: 'payments-senior' }] });
  app = createServerApp({ ...api.core, cases }, { logger: pino({ level: 'silent' }) });
  const token = async (name: string, role: Role, extra: { principal?: string; scope?: string } = {}) => (await api.core.identity.createToken(operator(), { name, role, ...extra })).token;
  people.ana = await token('ana', 'analyst', { principal: 'ana' });
  people.ben = await token('ben', 'analyst', { principal: 'ben' });
  people.zed = await token('zed', 'analyst', { principal: 'zed', scope: 'globex' });
});
afterAll(async () => {
  await app?.close();
  await api?.close();
});

const as = (who: string) => ({ authorization: `Bearer ${people[who] ?? api.tokens[who as Role]}` });
const post = (who: string, url: string, payload: unknown = {}) => app.inject({ method: 'POST', url, headers: as(who), payload: payload as Record<string, unknown> });
const get = (who: string, url: string) => app.inject({ method: 'GET', url, headers: as(who) });

describe('abuse API', () => {
  it('viewer and agent may not read or work the queue; an auditor reads but may not claim', async () => {
    const k = await open();
    for (const role of ['viewer', 'agent', 'approver', 'policy_author'] as const) {
      expect((await get(role, '/api/v1/abuse/cases')).statusCode, role).toBe(403);
      expect((await post(role, `/api/v1/abuse/cases/${k.id}/claim`)).statusCode, role).toBe(403);
      expect((await post(role, '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'a' }, name: 'x', connotation: 'bad', reason: 'r' })).statusCode, role).toBe(403);
    }
    expect((await get('auditor', `/api/v1/abuse/cases/${k.id}`)).statusCode).toBe(200);
    expect((await post('auditor', `/api/v1/abuse/cases/${k.id}/claim`)).statusCode).toBe(403);
    // An analyst of another scope does not learn the case exists.
    expect((await get('zed', `/api/v1/abuse/cases/${k.id}`)).json()).toMatchObject({ error: { code: 'abuse.case_not_found' } });
  });

  it('two analysts claim at once: one 200, one 409 naming the holder; deciding without the claim is 409', async () => {
    const k = await open();
    const [a, b] = await Promise.all([post('ana', `/api/v1/abuse/cases/${k.id}/claim`), post('ben', `/api/v1/abuse/cases/${k.id}/claim`)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const lost = a.statusCode === 409 ? a : b;
    const winner = a.statusCode === 200 ? 'ana' : 'ben';
    expect(lost.json()).toMatchObject({ error: { code: 'abuse.case_claimed', message: expect.stringContaining(`\`${winner}\``) } });
    const other = winner === 'ana' ? 'ben' : 'ana';
    const res = await post(other, `/api/v1/abuse/cases/${k.id}/decide`, { outcome: 'confirmed' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'abuse.not_claimed' } });
  });

  it('confirm calls the mitigator with the proposed list and stores its ids', async () => {
    const k = await open();
    expect((await post('ana', `/api/v1/abuse/cases/${k.id}/claim`)).statusCode).toBe(200);
    const res = await post('ana', `/api/v1/abuse/cases/${k.id}/decide`, { outcome: 'confirmed', note: 'clear exfiltration' });
    expect(res.statusCode, res.body).toBe(200);
    expect(applied.at(-1)).toEqual({ proposed: [{ kind: 'deny', forMs: 3_600_000 }, { kind: 'kill' }], caseId: k.id });
    const n = applied.length;
    expect(res.json()).toMatchObject({ status: 'closed', outcome: 'confirmed', mitigations: [`mit_${n}_0_deny`, `mit_${n}_1_kill`], notes: [{ by: 'ana', text: 'clear exfiltration' }] });
    expect((await get('ana', `/api/v1/abuse/cases/${k.id}`)).json()).toMatchObject({ mitigations: [`mit_${n}_0_deny`, `mit_${n}_1_kill`] });
    expect((await post('ana', `/api/v1/abuse/cases/${k.id}/decide`, { outcome: 'false_positive' })).json()).toMatchObject({ error: { code: 'abuse.case_closed' } });
  });

  it('a false positive calls undo and the rule precision drops', async () => {
    const rule = { kind: 'rule' as const, rule: 'flaky' };
    const first = await open({ source: rule });
    await post('ana', `/api/v1/abuse/cases/${first.id}/claim`);
    await post('ana', `/api/v1/abuse/cases/${first.id}/decide`, { outcome: 'confirmed' });
    const stat = async () => ((await get('auditor', '/api/v1/abuse/rules/stats')).json() as { rules: { rule: string; precision?: number }[] }).rules.find((r) => r.rule === 'flaky');
    expect((await stat())?.precision).toBe(1);
    const second = await open({ source: rule });
    await post('ben', `/api/v1/abuse/cases/${second.id}/claim`);
    const res = await post('ben', `/api/v1/abuse/cases/${second.id}/decide`, { outcome: 'false_positive' });
    expect(res.statusCode, res.body).toBe(200);
    expect(undone).toContain(second.id);
    expect(await stat()).toMatchObject({ confirmed: 1, falsePositive: 1, precision: 0.5 });
  });

  it('escalation moves the case to the route\'s escalation queue and frees it; queue and overdue filters', async () => {
    const k = await open();
    await post('ana', `/api/v1/abuse/cases/${k.id}/claim`);
    const res = await post('ana', `/api/v1/abuse/cases/${k.id}/decide`, { outcome: 'escalated', note: 'needs a senior' });
    expect(res.json()).toMatchObject({ queue: 'payments-senior', status: 'open' });
    const listed = (await get('ben', '/api/v1/abuse/cases?queue=payments-senior')).json() as { cases: Case[] };
    expect(listed.cases.map((c) => c.id)).toEqual([k.id]);
    expect((await post('ben', `/api/v1/abuse/cases/${k.id}/claim`)).statusCode).toBe(200);
    expect((await post('ben', `/api/v1/abuse/cases/${k.id}/notes`, { text: 'on it' })).json()).toMatchObject({ notes: [{ text: 'needs a senior' }, { by: 'ben', text: 'on it' }] });
    expect((await post('ben', `/api/v1/abuse/cases/${k.id}/release`)).json()).toMatchObject({ status: 'open' });
    const overdue = async () => ((await get('ana', '/api/v1/abuse/cases?overdue=true&limit=500')).json() as { cases: Case[] }).cases.map((c) => c.id);
    expect(await overdue()).not.toContain(k.id);
    clock.advance(3_600_001);
    expect(await overdue()).toContain(k.id);
  });

  it('pages by id with `after`', async () => {
    for (let i = 0; i < 3; i++) await open({ category: 'paging', scope: 'acme/paging' });
    const first = (await get('ana', '/api/v1/abuse/cases?limit=2')).json() as { cases: Case[]; next: string };
    expect(first.cases).toHaveLength(2);
    const second = (await get('ana', `/api/v1/abuse/cases?limit=2&after=${first.next}`)).json() as { cases: Case[] };
    expect(second.cases[0]!.id < first.next).toBe(true);
  });

  it('labels: a reason is required (400 without), an expired label is not listed, removal by URL-encoded entity', async () => {
    const missing = await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'agent-7' }, name: 'watch', connotation: 'bad' });
    expect(missing.statusCode).toBe(400);
    const added = await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'agent-7' }, name: 'watch', connotation: 'bad', reason: 'odd uploads', ttlMs: 60_000 });
    expect(added.statusCode, added.body).toBe(201);
    expect((await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'principal', id: 'bob@acme.example/x' }, name: 'vip', connotation: 'good', reason: 'customer' })).statusCode).toBe(201);
    const names = async () => ((await get('auditor', '/api/v1/abuse/labels')).json() as { labels: { name: string }[] }).labels.map((l) => l.name).sort();
    expect(await names()).toEqual(['vip', 'watch']);
    clock.advance(60_000);
    expect(await names()).toEqual(['vip']);
    expect((await get('ana', '/api/v1/abuse/labels?entity=x')).statusCode).toBe(400);
    const del = await app.inject({ method: 'DELETE', url: `/api/v1/abuse/labels/principal/${encodeURIComponent('bob@acme.example/x')}/vip`, headers: as('ana') });
    expect(del.statusCode, del.body).toBe(204);
    expect(await names()).toEqual([]);
    const again = await app.inject({ method: 'DELETE', url: `/api/v1/abuse/labels/principal/${encodeURIComponent('bob@acme.example/x')}/vip`, headers: as('ana') });
    expect(again.json()).toMatchObject({ error: { code: 'abuse.label_not_found' } });
    // A scoped analyst may not label an agent every scope's policies read.
    expect((await post('zed', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'agent-7' }, name: 'watch', connotation: 'bad', reason: 'r' })).json()).toMatchObject({ error: { code: 'auth.forbidden' } });
  });

  it('mitigations: list live ones, lift once', async () => {
    const m = { id: 'mit_manual_1', tenantId: 'default', entity: { kind: 'agent' as const, id: 'agent-7' }, kind: 'deny' as const, reason: 'r', source: { kind: 'analyst' as const, principal: 'ana' }, createdAt: clock.now().toISOString(), until: new Date(clock.now().getTime() + 60_000).toISOString() };
    await api.core.mitigations.add(m);
    const live = (await get('auditor', '/api/v1/abuse/mitigations?kind=agent&entity=agent-7&live=true')).json() as { mitigations: { id: string }[] };
    expect(live.mitigations.map((x) => x.id)).toEqual([m.id]);
    expect((await post('ana', `/api/v1/abuse/mitigations/${m.id}/lift`)).json()).toMatchObject({ liftedBy: 'ana' });
    expect((await post('ana', `/api/v1/abuse/mitigations/${m.id}/lift`)).json()).toMatchObject({ error: { code: 'abuse.mitigation_not_found' } });
    expect(((await get('auditor', '/api/v1/abuse/mitigations?live=true')).json() as { mitigations: unknown[] }).mitigations).toEqual([]);
  });

  it("another tenant's case id is 404; malformed input is 400, never 500", async () => {
    const k = await open();
    await api.core.identity.createTenant(undefined, { id: 't2', name: 'T2' });
    const t2 = await roleTokens(api.core, 't2');
    const res = await app.inject({ method: 'GET', url: `/api/v1/abuse/cases/${k.id}`, headers: { authorization: `Bearer ${t2.analyst}` } });
    expect(res.statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: `/api/v1/abuse/cases/${k.id}/claim`, headers: { authorization: `Bearer ${t2.owner}` }, payload: {} })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'POST', url: `/api/v1/abuse/cases/${k.id}/decide`, headers: { ...as('ana'), 'content-type': 'application/json' }, payload: '{"outcome": "confirmed",' });
    expect(bad.statusCode).toBe(400);
    expect((await post('ana', `/api/v1/abuse/cases/${k.id}/decide`, { outcome: 'nuke' })).statusCode).toBe(400);
    expect((await get('ana', '/api/v1/abuse/cases/not-a-case')).statusCode).toBe(400);
    expect((await get('ana', '/api/v1/abuse/cases?overdue=maybe')).statusCode).toBe(400);
    expect((await get('ana', '/api/v1/abuse/cases?limit=0')).statusCode).toBe(400);
    expect((await get('ana', '/api/v1/abuse/cases?after=%00')).statusCode).toBe(400);
    expect((await post('ana', `/api/v1/abuse/cases/${k.id}/decide`, {})).statusCode).toBe(400);
    expect((await post('ana', `/api/v1/abuse/cases/${k.id}/notes`, { text: '' })).statusCode).toBe(400);
    expect((await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'a' }, name: 'Bad Name', connotation: 'bad', reason: 'r' })).statusCode).toBe(400);
    expect((await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'a' }, name: 'x', connotation: 'bad', reason: 'r', expiresAt: 'tomorrow' })).statusCode).toBe(400);
    expect((await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'a' }, name: 'x', connotation: 'bad', reason: 'r', expiresAt: '2001-01-01T00:00:00Z' })).json()).toMatchObject({ error: { code: 'request.invalid' } });
    expect((await post('ana', '/api/v1/abuse/labels', { entity: { kind: 'agent', id: 'a' }, name: 'x', connotation: 'bad', reason: 'r', ttlMs: 1000, expiresAt: '2099-01-01T00:00:00Z' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/abuse/labels/planet/a/x', headers: as('ana') })).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/abuse/labels/agent/a%00b/x', headers: as('ana') })).statusCode).toBe(400);
    // Claim, release and lift take no body: a body-less POST (curl -X POST) works as `{}` does.
    const bare = await app.inject({ method: 'POST', url: `/api/v1/abuse/cases/${k.id}/claim`, headers: as('ben') });
    expect(bare.statusCode, bare.body).toBe(200);
    expect((await post('ben', `/api/v1/abuse/cases/${k.id}/release`)).statusCode).toBe(200);
  });
});
