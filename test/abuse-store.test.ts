import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseStore, LabelStore, MitigationStore } from '../src/abuse/ports.js';
import { uuidv7, type Case, type Label, type Mitigation } from '../src/domain/index.js';
import { createCaseRepo, createLabelRepo, createMitigationRepo } from '../src/store/index.js';
import { dialects, type FreshDatabase } from './support/databases.js';

// Issue 15 items 3 and 5 on both stores: labels (replace, expiry, removal), mitigations (live, lift,
// the cross-tenant kill sweep), and cases (filters, paging, an exclusive claim under concurrency,
// decisions only by the claimer, escalation, per-rule precision, tenant isolation, a tampered row).
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

const label = (over: Partial<Label> = {}): Label => ({
  tenantId: 'default',
  entity: { kind: 'agent', id: 'agent-1' },
  name: 'spammy',
  connotation: 'bad',
  reason: 'sent 400 mails in a minute',
  source: { kind: 'rule', rule: 'mail-burst' },
  createdAt: T0.toISOString(),
  ...over,
});

const mitigation = (over: Partial<Mitigation> = {}): Mitigation => ({
  id: `mit_${uuidv7().replaceAll('-', '')}`,
  tenantId: 'default',
  entity: { kind: 'agent', id: 'agent-1' },
  kind: 'deny',
  reason: 'confirmed abuse',
  source: { kind: 'rule', rule: 'mail-burst' },
  createdAt: T0.toISOString(),
  until: at(3_600_000).toISOString(),
  ...over,
});

let seq = 0;
const abuseCase = (over: Partial<Case> = {}): Case => ({
  id: `case_${uuidv7(T0.getTime() + seq++).replaceAll('-', '')}`,
  tenantId: 'default',
  queue: 'default',
  category: 'exfiltration',
  severity: 'high',
  scope: 'acme/platform',
  subject: { kind: 'agent', id: 'agent-1' },
  summary: 'uploads to an unknown host',
  source: { kind: 'rule', rule: 'exfil-burst' },
  evidence: { eventIds: ['e1'], findings: [{ category: 'exfiltration', type: 'url', score: 0.9 }], labels: [], features: { uploads_1m: 12 } },
  mitigations: [],
  proposed: [{ kind: 'deny', forMs: 3_600_000 }],
  status: 'open',
  notes: [],
  dueAt: at(3_600_000).toISOString(),
  createdAt: T0.toISOString(),
  updatedAt: T0.toISOString(),
  ...over,
});

for (const dialect of await dialects()) {
  describe(`abuse store on ${dialect.name}`, () => {
    let fresh: FreshDatabase;
    let labels: LabelStore;
    let mitigations: MitigationStore;
    let cases: CaseStore;
    beforeAll(async () => {
      fresh = await dialect.fresh();
      const db = fresh.database.db;
      await sql`INSERT INTO tenants (id, name, status, created_at) VALUES ('t-2', 'T2', 'active', now())`.execute(db);
      labels = createLabelRepo(db);
      mitigations = createMitigationRepo(db);
      cases = createCaseRepo(db);
    });
    afterAll(() => fresh?.dispose());

    it('labels: add, replace on the same entity and name, expire, remove', async () => {
      expect(await labels.anyLive('default', at(0))).toBe(false);
      await labels.add(label());
      expect(await labels.anyLive('default', at(0))).toBe(true);
      expect(await labels.anyLive('t-none', at(0))).toBe(false);
      await labels.add(label({ connotation: 'neutral', reason: 'looked again', source: { kind: 'analyst', principal: 'ana' } }));
      await labels.add(label({ name: 'trial', expiresAt: at(60_000).toISOString() }));
      await labels.add(label({ entity: { kind: 'principal', id: 'bob' }, name: 'vip', connotation: 'good' }));
      const live = await labels.live('default', [{ kind: 'agent', id: 'agent-1' }], at(1000));
      expect(live.map((l) => [l.name, l.connotation])).toEqual([['spammy', 'neutral'], ['trial', 'bad']]);
      expect(live[0]).toMatchObject({ reason: 'looked again', source: { kind: 'analyst', principal: 'ana' } });
      // Past its expiry a label is gone for every reader.
      expect((await labels.live('default', [{ kind: 'agent', id: 'agent-1' }], at(60_000))).map((l) => l.name)).toEqual(['spammy']);
      expect((await labels.list('default', { name: 'trial' }, at(61_000)))).toEqual([]);
      expect((await labels.list('default', { kind: 'principal' }, at(1000))).map((l) => l.name)).toEqual(['vip']);
      expect(await labels.live('default', [], at(0))).toEqual([]);
      // Removing an expired label is no removal; a live one is.
      expect(await labels.remove('default', { kind: 'agent', id: 'agent-1' }, 'trial', at(61_000))).toBe(false);
      expect(await labels.remove('default', { kind: 'agent', id: 'agent-1' }, 'spammy', at(1000))).toBe(true);
      expect(await labels.remove('default', { kind: 'agent', id: 'agent-1' }, 'spammy', at(1000))).toBe(false);
      expect(await labels.live('default', [{ kind: 'agent', id: 'agent-1' }, { kind: 'principal', id: 'bob' }], at(1000))).toHaveLength(1);
    });

    it('mitigations: live, lift once, the kill sweep across tenants', async () => {
      const deny = mitigation();
      const old = mitigation({ until: at(1000).toISOString() });
      const throttle = mitigation({ kind: 'throttle', limit: 5, windowMs: 60_000, caseId: 'case_x' });
      expect(await mitigations.anyLive('default', at(2000))).toBe(false);
      await mitigations.add(old);
      // Past its `until`, a mitigation is not live: the tenant still counts as having none.
      expect(await mitigations.anyLive('default', at(2000))).toBe(false);
      await Promise.all([deny, throttle].map((m) => mitigations.add(m)));
      expect(await mitigations.anyLive('default', at(2000))).toBe(true);
      const live = await mitigations.live('default', [{ kind: 'agent', id: 'agent-1' }], at(2000));
      expect(live.map((m) => m.id).sort()).toEqual([deny.id, throttle.id].sort());
      expect(live.find((m) => m.id === throttle.id)).toMatchObject({ limit: 5, windowMs: 60_000, caseId: 'case_x' });
      expect((await mitigations.lift('default', deny.id, 'ana', at(3000)))?.liftedBy).toBe('ana');
      expect(await mitigations.lift('default', deny.id, 'ana', at(3000))).toBeUndefined();
      expect(await mitigations.lift('default', old.id, 'ana', at(3000))).toBeUndefined();
      expect(await mitigations.get('default', deny.id)).toMatchObject({ liftedAt: at(3000).toISOString() });
      expect((await mitigations.list('default', { live: true }, at(3000))).map((m) => m.id)).toEqual([throttle.id]);
      expect((await mitigations.list('default', { live: false }, at(3000))).map((m) => m.id).sort()).toEqual([deny.id, old.id].sort());

      const killA = mitigation({ kind: 'kill', createdAt: at(10_000).toISOString() });
      const killB = mitigation({ kind: 'kill', tenantId: 't-2', createdAt: at(11_000).toISOString() });
      const killOld = mitigation({ kind: 'kill', createdAt: at(5000).toISOString() });
      const killLifted = mitigation({ kind: 'kill', createdAt: at(12_000).toISOString() });
      for (const m of [killA, killB, killOld, killLifted]) await mitigations.add(m);
      await mitigations.lift('default', killLifted.id, 'ana', at(12_500));
      expect((await mitigations.killsSince(at(9000))).map((m) => [m.tenantId, m.id])).toEqual([['default', killA.id], ['t-2', killB.id]]);
    });

    it('cases: filters and paging by id, newest first', async () => {
      const made = [
        abuseCase({ queue: 'triage' }),
        abuseCase({ queue: 'triage', scope: 'acme/platform/api' }),
        abuseCase({ queue: 'triage', scope: 'acme/platformer', source: { kind: 'rule', rule: 'other' } }),
        abuseCase({ queue: 'fraud', scope: 'globex', subject: { kind: 'principal', id: 'eve' }, dueAt: at(-1000).toISOString() }),
      ];
      for (const c of made) await cases.open(c);
      const ids = made.map((c) => c.id);
      expect((await cases.list('default', { queue: 'triage' })).cases.map((c) => c.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect((await cases.list('default', { scopes: ['acme/platform'] })).cases.map((c) => c.id)).toEqual([ids[1], ids[0]]);
      expect((await cases.list('default', { scopes: [] })).cases).toEqual([]);
      expect((await cases.list('default', { rule: 'other' })).cases.map((c) => c.id)).toEqual([ids[2]]);
      expect((await cases.list('default', { subject: { kind: 'principal', id: 'eve' } })).cases.map((c) => c.id)).toEqual([ids[3]]);
      expect((await cases.list('default', { dueBefore: at(0) })).cases.map((c) => c.id)).toEqual([ids[3]]);
      const first = await cases.list('default', { queue: 'triage', limit: 2 });
      expect(first.cases.map((c) => c.id)).toEqual([ids[2], ids[1]]);
      expect(first.next).toBe(ids[1]);
      const second = await cases.list('default', { queue: 'triage', limit: 2, after: first.next! });
      expect(second).toEqual({ cases: [made[0]] });
    });

    it('two analysts claim at once: exactly one wins; decisions only by the claimer', async () => {
      const c = abuseCase();
      await cases.open(c);
      const [a, b] = await Promise.all([cases.claim('default', c.id, 'ana', at(1)), cases.claim('default', c.id, 'ben', at(1))]);
      const won = [a, b].filter((r) => r && 'case' in r);
      const lost = [a, b].filter((r) => r && 'conflict' in r);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const winner = (won[0] as { case: Case }).case.claimedBy!;
      const loser = winner === 'ana' ? 'ben' : 'ana';
      expect((lost[0] as { conflict: Case }).conflict.claimedBy).toBe(winner);
      // Claiming one's own claim again keeps it.
      expect(await cases.claim('default', c.id, winner, at(2))).toMatchObject({ case: { claimedBy: winner, claimedAt: at(1).toISOString() } });
      expect(await cases.decide('default', c.id, { outcome: 'confirmed', by: loser, at: at(3) })).toBeUndefined();
      expect(await cases.release('default', c.id, loser, at(3))).toBeUndefined();
      const done = await cases.decide('default', c.id, { outcome: 'confirmed', by: winner, at: at(4), note: 'clear exfil', applied: { mitigations: ['mit_1'], suspended: false, labelsAdded: ['exfil'] } });
      expect(done).toMatchObject({ status: 'closed', outcome: 'confirmed', decidedBy: winner, mitigations: ['mit_1'], labelsAdded: ['exfil'], notes: [{ by: winner, text: 'clear exfil' }] });
      expect(await cases.claim('default', c.id, loser, at(5))).toMatchObject({ conflict: { status: 'closed' } });
      expect(await cases.claim('default', 'case_unknown', loser, at(5))).toBeUndefined();
    });

    it('release, escalate into another queue, notes', async () => {
      const c = abuseCase();
      await cases.open(c);
      await cases.claim('default', c.id, 'ana', at(1));
      expect(await cases.release('default', c.id, 'ana', at(2))).toMatchObject({ status: 'open' });
      await cases.claim('default', c.id, 'ben', at(3));
      expect(await cases.release('default', c.id, 'ana', at(4), true)).toMatchObject({ status: 'open' });
      await cases.claim('default', c.id, 'ana', at(5));
      const up = await cases.decide('default', c.id, { outcome: 'escalated', by: 'ana', at: at(6), queue: 'senior' });
      expect(up).toMatchObject({ status: 'open', queue: 'senior', outcome: 'escalated' });
      expect(up?.claimedBy).toBeUndefined();
      expect((await cases.claim('default', c.id, 'ben', at(7))) ?? {}).toHaveProperty('case');
      const noted = await cases.addNote('default', c.id, { by: 'ben', at: at(8), text: 'looking' });
      expect(noted?.notes).toEqual([{ by: 'ben', at: at(8).toISOString(), text: 'looking' }]);
      expect(await cases.addNote('default', 'case_unknown', { by: 'ben', at: at(8), text: 'x' })).toBeUndefined();
    });

    it('rule stats: precision is confirmed over decided; escalations and open cases counted', async () => {
      const rule = { kind: 'rule' as const, rule: 'precise' };
      const made = Array.from({ length: 5 }, () => abuseCase({ source: rule }));
      for (const c of made) await cases.open(c);
      await cases.open(abuseCase({ source: { kind: 'analyst', principal: 'ana' } }));
      const decide = async (c: Case, outcome: 'confirmed' | 'false_positive' | 'escalated') => {
        await cases.claim('default', c.id, 'ana', at(1));
        await cases.decide('default', c.id, { outcome, by: 'ana', at: at(2), queue: 'senior' });
      };
      await decide(made[0]!, 'confirmed');
      await decide(made[1]!, 'confirmed');
      await decide(made[2]!, 'confirmed');
      await decide(made[3]!, 'false_positive');
      await decide(made[4]!, 'escalated');
      const stats = (await cases.ruleStats('default')).find((s) => s.rule === 'precise');
      expect(stats).toEqual({ rule: 'precise', opened: 5, confirmed: 3, falsePositive: 1, escalated: 1, open: 1, precision: 0.75 });
      expect((await cases.ruleStats('default')).map((s) => s.rule)).not.toContain(undefined);
    });

    it("another tenant's ids read nothing and change nothing", async () => {
      const c = abuseCase();
      await cases.open(c);
      const m = mitigation();
      await mitigations.add(m);
      await labels.add(label({ name: 'mine' }));
      expect(await cases.get('t-2', c.id)).toBeUndefined();
      expect(await cases.claim('t-2', c.id, 'eve', at(1))).toBeUndefined();
      expect(await cases.addNote('t-2', c.id, { by: 'eve', at: at(1), text: 'x' })).toBeUndefined();
      expect((await cases.list('t-2', {})).cases).toEqual([]);
      expect(await mitigations.get('t-2', m.id)).toBeUndefined();
      expect(await mitigations.lift('t-2', m.id, 'eve', at(1))).toBeUndefined();
      expect(await labels.live('t-2', [{ kind: 'agent', id: 'agent-1' }], at(1))).toEqual([]);
      expect(await labels.remove('t-2', { kind: 'agent', id: 'agent-1' }, 'mine', at(1))).toBe(false);
      expect(await cases.ruleStats('t-2')).toEqual([]);
      expect((await cases.get('default', c.id))?.status).toBe('open');
    });

    it('a case whose JSON was changed outside Warden is left out of lists and refused by id', async () => {
      const good = abuseCase({ queue: 'tamper' });
      const bad = abuseCase({ queue: 'tamper' });
      const wrongShape = abuseCase({ queue: 'tamper' });
      for (const c of [good, bad, wrongShape]) await cases.open(c);
      const db = fresh.database.db;
      await sql`UPDATE abuse_cases SET evidence = '{not json' WHERE id = ${bad.id}`.execute(db);
      await sql`UPDATE abuse_cases SET proposed = '[{"kind":"nuke"}]' WHERE id = ${wrongShape.id}`.execute(db);
      expect((await cases.list('default', { queue: 'tamper' })).cases.map((c) => c.id)).toEqual([good.id]);
      await expect(cases.get('default', bad.id)).rejects.toMatchObject({ code: 'abuse.case_tampered' });
      await expect(cases.get('default', wrongShape.id)).rejects.toMatchObject({ code: 'abuse.case_tampered' });
    });
  });
}
