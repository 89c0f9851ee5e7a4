import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApprovalService, type ApprovalService } from '../src/approvals/index.js';
import type { ApprovalPolicy, ApprovalSubject, AuditEvent } from '../src/domain/index.js';
import type { Credential } from '../src/identity/index.js';
import { createCore, type Core } from '../src/main/index.js';
import { createApprovalRepo } from '../src/store/index.js';
import { dialects, type FreshDatabase } from './support/databases.js';

// Issue 14 items 1, 2 and 7 on both stores: concurrent answers are counted one after the other, a
// once approval releases exactly one of two racing retries, a tampered row is refused, requests
// survive a restart, and an approval given through one replica releases a call held on another
// within a second.
const POLICY: ApprovalPolicy = { approvers: [{ roles: ['approver'] }], count: 2, confirm: false, timeoutMs: 60_000, reuse: 'once', agentOwnerMayApprove: false, rules: ['p/r'] };
const person = (id: string): Credential => ({ tenantId: 'default', method: 'token', id, name: id, principal: id, grants: [{ role: 'approver' }] });
const subject = (n: number): ApprovalSubject => ({ tenantId: 'default', kind: 'tool.call', scope: 'acme/x', tool: { server: 's', name: 's.deploy' }, args: { n }, principal: 'alice', agent: 'agent-1', policySetVersion: 'v1' });
const events: AuditEvent[] = [];
const sink = { append: async (e: AuditEvent[]) => void events.push(...e) };
const clock = { now: () => new Date() };

for (const dialect of await dialects()) {
  describe(`approvals on ${dialect.name}`, () => {
    let fresh: FreshDatabase;
    let service: ApprovalService;
    beforeAll(async () => {
      fresh = await dialect.fresh();
      service = createApprovalService({ repo: createApprovalRepo(fresh.database.db), audit: sink, clock, pollMs: 100 });
    });
    afterAll(() => fresh?.dispose());

    it('two approvers at once are both counted, the request approved once', async () => {
      const { request } = await service.resolve({ tenantId: 'default', subject: subject(1), policy: POLICY });
      const answers = await Promise.allSettled([service.answer(person('bob'), request.id, 'approve', undefined), service.answer(person('carol'), request.id, 'approve', undefined)]);
      expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled']);
      const after = await service.get(person('bob'), request.id);
      expect(after.status).toBe('approved');
      expect(after.votes.map((v) => v.principal).sort()).toEqual(['bob', 'carol']);
      expect(events.filter((e) => e.type === 'approval.request.approved' && e.target?.name === request.id)).toHaveLength(1);
    });

    it('the same person twice at once counts once', async () => {
      const { request } = await service.resolve({ tenantId: 'default', subject: subject(2), policy: POLICY });
      const answers = await Promise.allSettled([service.answer(person('bob'), request.id, 'approve', undefined), service.answer(person('bob'), request.id, 'approve', undefined)]);
      expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      expect((await service.get(person('bob'), request.id)).votes).toHaveLength(1);
    });

    it('two identical calls at once wait on one request; two retries at once after a once approval release exactly one', async () => {
      const [a, b] = await Promise.all([service.resolve({ tenantId: 'default', subject: subject(3), policy: POLICY }), service.resolve({ tenantId: 'default', subject: subject(3), policy: POLICY })]);
      expect(a.request.id).toBe(b.request.id);
      await service.answer(person('bob'), a.request.id, 'approve', undefined);
      await service.answer(person('carol'), a.request.id, 'approve', undefined);
      const retries = await Promise.all([1, 2, 3].map(() => service.resolve({ tenantId: 'default', subject: subject(3), policy: POLICY })));
      expect(retries.filter((r) => r.outcome === 'released')).toHaveLength(1);
    });

    it('a request whose stored subject was changed is refused, never shown or released, and left out of lists', async () => {
      const { request } = await service.resolve({ tenantId: 'default', subject: subject(4), policy: POLICY });
      await sql`UPDATE approval_requests SET subject = replace(subject, '"n":4', '"n":5') WHERE id = ${request.id}`.execute(fresh.database.db);
      await expect(service.get(person('bob'), request.id)).rejects.toMatchObject({ code: 'approval.tampered' });
      await expect(service.answer(person('bob'), request.id, 'approve', undefined)).rejects.toMatchObject({ code: 'approval.tampered' });
      const listed = await service.list(person('bob'), { limit: 100 });
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.map((r) => r.id)).not.toContain(request.id);
    });

    it('session reuse: released again in the same session, asked anew under a stricter policy, used once without a session', async () => {
      const session = { ...subject(20), session: 's-1' };
      const loose: ApprovalPolicy = { ...POLICY, count: 1, reuse: 'session' };
      const { request } = await service.resolve({ tenantId: 'default', subject: session, policy: loose });
      await service.answer(person('bob'), request.id, 'approve', undefined);
      expect((await service.resolve({ tenantId: 'default', subject: session, policy: loose })).outcome).toBe('released');
      expect((await service.resolve({ tenantId: 'default', subject: session, policy: loose })).outcome).toBe('released');
      const strict: ApprovalPolicy = { ...loose, count: 3 };
      expect((await service.resolve({ tenantId: 'default', subject: session, policy: strict })).outcome).toBe('pending');
      const bare = subject(21);
      const first = await service.resolve({ tenantId: 'default', subject: bare, policy: loose });
      expect(first.request.policy.reuse).toBe('once');
      await service.answer(person('bob'), first.request.id, 'approve', undefined);
      expect((await service.resolve({ tenantId: 'default', subject: bare, policy: loose })).outcome).toBe('released');
      expect((await service.resolve({ tenantId: 'default', subject: bare, policy: loose })).outcome).toBe('pending');
    });

    it('an agent may have at most 20 requests pending, and a subject over 64 KB is not put to approval', async () => {
      const many = (n: number): ApprovalSubject => ({ ...subject(1000 + n), agent: 'flooder' });
      for (let n = 0; n < 20; n++) await service.resolve({ tenantId: 'default', subject: many(n), policy: POLICY });
      await expect(service.resolve({ tenantId: 'default', subject: many(20), policy: POLICY })).rejects.toMatchObject({ code: 'approval.too_many_pending' });
      await expect(service.resolve({ tenantId: 'default', subject: { ...subject(30), args: { blob: 'x'.repeat(70_000) } }, policy: POLICY })).rejects.toMatchObject({ code: 'approval.too_large' });
    });
  });
}

const pgOnly = (await dialects()).find((d) => d.name === 'postgres');
describe.skipIf(!pgOnly)('approvals across replicas and restarts (PostgreSQL)', () => {
  let fresh: FreshDatabase;
  let a: Core;
  let b: Core;
  beforeAll(async () => {
    fresh = await pgOnly!.fresh();
    const quiet = pino({ level: 'silent' });
    a = await createCore({ database: { url: fresh.url! }, policies: [] }, { logger: quiet });
    b = await createCore({ database: { url: fresh.url! }, policies: [] }, { logger: quiet });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fresh?.dispose();
  });

  it('an approval given on one replica releases a call held on another within a second', async () => {
    const { request } = await a.approvals.resolve({ tenantId: 'default', subject: subject(10), policy: { ...POLICY, count: 1 } });
    const held = a.approvals.wait('default', request.id, { budgetMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const approvedAt = performance.now();
    await b.approvals.answer(person('bob'), request.id, 'approve', undefined);
    const released = await held;
    const ms = performance.now() - approvedAt;
    expect(released.status).toBe('approved');
    expect(ms).toBeLessThan(1000);
  });

  it('a request survives a restart: made before, approved and used after', async () => {
    const { request } = await a.approvals.resolve({ tenantId: 'default', subject: subject(11), policy: { ...POLICY, count: 1 } });
    await a.close();
    a = await createCore({ database: { url: fresh.url! }, policies: [] }, { logger: pino({ level: 'silent' }) });
    await a.approvals.answer(person('bob'), request.id, 'approve', undefined);
    const again = await a.approvals.resolve({ tenantId: 'default', subject: subject(11), policy: { ...POLICY, count: 1 } });
    expect(again).toMatchObject({ outcome: 'released', request: { id: request.id } });
  });
});
