import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseService, createLabelService, type CaseService, type LabelService, type Mitigator, type OpenCaseInput } from '../src/abuse/index.js';
import type { AuditEvent, Case, ProposedMitigation } from '../src/domain/index.js';
import type { Credential, Role } from '../src/identity/index.js';
import { createCaseRepo, createLabelRepo } from '../src/store/index.js';
import { freshPglite } from './support/databases.js';
import { fakeClock } from './support/fake-clock.js';

// Issue 15 items 3 and 5, the services: labels with a reason and an expiry, the queue's routing and
// SLA, claims, decisions through the mitigator port, precision, roles at the case's scope, audit.
const clock = fakeClock('2026-12-01T10:00:00.000Z');
const events: AuditEvent[] = [];
const audit = { append: async (e: AuditEvent[]) => void events.push(...e) };
const person = (id: string, role: Role = 'analyst', scope?: string): Credential => ({ tenantId: 'default', method: 'token', id, name: id, principal: id, grants: [{ role, ...(scope ? { scope } : {}) }] });

/** A recording double of the Mitigator port. */
function recordingMitigator() {
  const calls: { apply: { proposed: readonly ProposedMitigation[]; caseId?: string | undefined }[]; undo: { id: string; by: string }[] } = { apply: [], undo: [] };
  const port: Mitigator = {
    apply: async (input) => {
      calls.apply.push({ proposed: input.proposed, caseId: input.caseId });
      return { mitigations: input.proposed.map((_, i) => `mit_${calls.apply.length}_${i}`), suspended: input.proposed.some((p) => p.kind === 'suspend'), labelsAdded: [] };
    },
    undo: async (c, by) => void calls.undo.push({ id: c.id, by }),
  };
  return { port, calls };
}

const input = (over: Partial<OpenCaseInput> = {}): OpenCaseInput => ({
  tenantId: 'default',
  category: 'exfiltration',
  severity: 'high',
  scope: 'acme/platform',
  subject: { kind: 'agent', id: 'agent-1' },
  summary: 'uploads to an unknown host',
  source: { kind: 'rule', rule: 'exfil-burst' },
  evidence: { eventIds: [], findings: [], labels: [], features: {} },
  mitigations: [],
  proposed: [{ kind: 'deny', forMs: 3_600_000 }],
  ...over,
});

describe('abuse services', () => {
  let dispose: () => Promise<void>;
  let labels: LabelService;
  let cases: CaseService;
  const mitigator = recordingMitigator();
  beforeAll(async () => {
    const fresh = await freshPglite();
    dispose = fresh.dispose;
    labels = createLabelService({ store: createLabelRepo(fresh.database.db), audit, clock });
    cases = createCaseService({
      store: createCaseRepo(fresh.database.db),
      mitigator: () => mitigator.port,
      audit,
      clock,
      queues: [
        { name: 'payments', scopes: ['acme/payments'], categories: [], slaMs: 3_600_000, escalateTo: 'payments-senior' },
        { name: 'exfil', scopes: [], categories: ['exfiltration'], slaMs: 4 * 3_600_000 },
      ],
    });
  });
  afterAll(() => dispose?.());

  it('labels: a reason is required, ttl sets the expiry, every change is audited', async () => {
    const actor = { type: 'user' as const, id: 'token:ana', name: 'ana' };
    await expect(labels.add('default', { entity: { kind: 'agent', id: 'a' }, name: 'x', connotation: 'bad', reason: '  ' }, { kind: 'analyst', principal: 'ana' }, actor)).rejects.toMatchObject({ code: 'request.invalid' });
    const l = await labels.add('default', { entity: { kind: 'agent', id: 'a' }, name: 'watch', connotation: 'bad', reason: 'odd uploads', ttlMs: 60_000 }, { kind: 'analyst', principal: 'ana' }, actor);
    expect(l.expiresAt).toBe(new Date(clock.now().getTime() + 60_000).toISOString());
    expect((await labels.live('default', [{ kind: 'agent', id: 'a' }])).map((x) => x.name)).toEqual(['watch']);
    clock.advance(60_000);
    expect(await labels.list('default', { name: 'watch' })).toEqual([]);
    await expect(labels.remove('default', { kind: 'agent', id: 'a' }, 'watch', actor)).rejects.toMatchObject({ code: 'abuse.label_not_found' });
    await labels.add('default', { entity: { kind: 'agent', id: 'a' }, name: 'watch', connotation: 'bad', reason: 'again' }, { kind: 'analyst', principal: 'ana' }, actor);
    await labels.remove('default', { kind: 'agent', id: 'a' }, 'watch', actor);
    expect(events.filter((e) => e.type.startsWith('abuse.label.')).map((e) => e.type)).toEqual(['abuse.label.added', 'abuse.label.added', 'abuse.label.removed']);
  });

  it('routing: first match wins, no match goes to default with 24 h, dueAt from the SLA', async () => {
    const now = clock.now().getTime();
    const pay = await cases.open(input({ scope: 'acme/payments/api' }));
    expect(pay).toMatchObject({ queue: 'payments', dueAt: new Date(now + 3_600_000).toISOString(), status: 'open' });
    expect((await cases.open(input())).queue).toBe('exfil');
    const other = await cases.open(input({ category: 'pii' }));
    expect(other).toMatchObject({ queue: 'default', dueAt: new Date(now + 24 * 3_600_000).toISOString() });
    expect(events.filter((e) => e.type === 'abuse.case.opened')).toHaveLength(3);
  });

  it('claim, decide only by the claimer, confirm applies the proposed mitigations and stores their ids', async () => {
    const k = await cases.open(input({ proposed: [{ kind: 'deny', forMs: 60_000 }, { kind: 'kill' }] }));
    await expect(cases.decide(person('ana'), k.id, { outcome: 'confirmed' })).rejects.toMatchObject({ code: 'abuse.not_claimed' });
    await cases.claim(person('ana'), k.id);
    await expect(cases.claim(person('ben'), k.id)).rejects.toMatchObject({ code: 'abuse.case_claimed', message: expect.stringContaining('`ana`') });
    await expect(cases.decide(person('ben'), k.id, { outcome: 'confirmed' })).rejects.toMatchObject({ code: 'abuse.not_claimed' });
    await expect(cases.release(person('ben'), k.id)).rejects.toMatchObject({ code: 'abuse.case_claimed' });
    const done = await cases.decide(person('ana'), k.id, { outcome: 'confirmed', note: 'clear' });
    expect(mitigator.calls.apply.at(-1)).toEqual({ proposed: [{ kind: 'deny', forMs: 60_000 }, { kind: 'kill' }], caseId: k.id });
    expect(done).toMatchObject({ status: 'closed', outcome: 'confirmed', decidedBy: 'ana', mitigations: ['mit_1_0', 'mit_1_1'] });
    await expect(cases.claim(person('ben'), k.id)).rejects.toMatchObject({ code: 'abuse.case_closed' });
    await expect(cases.decide(person('ana'), k.id, { outcome: 'false_positive' })).rejects.toMatchObject({ code: 'abuse.case_closed' });
  });

  it('false positive calls undo and lowers the rule precision; escalation moves the queue and frees the claim', async () => {
    const fp = await cases.open(input({ source: { kind: 'rule', rule: 'noisy' }, mitigations: ['mit_rule'] }));
    await cases.claim(person('ana'), fp.id);
    await cases.decide(person('ana'), fp.id, { outcome: 'false_positive' });
    expect(mitigator.calls.undo.at(-1)).toEqual({ id: fp.id, by: 'ana' });
    const ok = await cases.open(input({ source: { kind: 'rule', rule: 'noisy' } }));
    await cases.claim(person('ana'), ok.id);
    await cases.decide(person('ana'), ok.id, { outcome: 'confirmed' });
    expect((await cases.ruleStats(person('ana'))).find((s) => s.rule === 'noisy')).toMatchObject({ confirmed: 1, falsePositive: 1, precision: 0.5 });

    const pay = await cases.open(input({ scope: 'acme/payments' }));
    await cases.claim(person('ana'), pay.id);
    const up = await cases.decide(person('ana'), pay.id, { outcome: 'escalated' });
    expect(up).toMatchObject({ queue: 'payments-senior', status: 'open' });
    expect(up.claimedBy).toBeUndefined();
    const ex = await cases.open(input());
    await cases.claim(person('ben'), ex.id);
    expect((await cases.decide(person('ben'), ex.id, { outcome: 'escalated' })).queue).toBe('escalated');
    await cases.claim(person('ana'), ex.id);
    expect((await cases.decide(person('ana'), ex.id, { outcome: 'escalated', queue: 'legal' })).queue).toBe('legal');
  });

  it('roles at the case scope: an analyst elsewhere sees 404, an auditor reads but may not claim, an admin releases anyone', async () => {
    const k = await cases.open(input({ scope: 'acme/payments' }));
    await expect(cases.get(person('zed', 'analyst', 'globex'), k.id)).rejects.toMatchObject({ code: 'abuse.case_not_found' });
    expect((await cases.list(person('zed', 'analyst', 'globex'), {})).cases).toEqual([]);
    expect((await cases.list(person('pat', 'analyst', 'acme/payments'), {})).cases.every((x: Case) => x.scope.startsWith('acme/payments'))).toBe(true);
    expect((await cases.get(person('aud', 'auditor'), k.id)).id).toBe(k.id);
    await expect(cases.claim(person('aud', 'auditor'), k.id)).rejects.toMatchObject({ code: 'auth.forbidden' });
    await expect(cases.get(person('vic', 'viewer'), k.id)).rejects.toMatchObject({ code: 'abuse.case_not_found' });
    await cases.claim(person('ana'), k.id);
    expect((await cases.release(person('boss', 'admin'), k.id)).status).toBe('open');
    expect(events.find((e) => e.type === 'abuse.case.released' && e.details?.['caseId'] === k.id)?.details).toMatchObject({ heldBy: 'ana', forced: true });
    const noted = await cases.note(person('ana'), k.id, 'looking into it');
    expect(noted.notes.map((n) => n.text)).toEqual(['looking into it']);
  });

  it('overdue: not closed and past dueAt', async () => {
    const k = await cases.open(input({ scope: 'acme/payments' }));
    expect((await cases.list(person('ana'), { overdue: true })).cases.map((x) => x.id)).not.toContain(k.id);
    clock.advance(3_600_001);
    expect((await cases.list(person('ana'), { overdue: true })).cases.map((x) => x.id)).toContain(k.id);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['abuse.case.claimed', 'abuse.case.released', 'abuse.case.decided', 'abuse.case.noted']) expect(types).toContain(t);
  });
});
