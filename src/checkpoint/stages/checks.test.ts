import { describe, expect, it } from 'vitest';
import { digestJson, type AuditEvent, type CheckOutcome, type CheckRequirement, type Decision } from '../../domain/index.js';
import { call, policy, setOf, settings } from '../../policy/test-helpers.js';
import { createCheckpoint } from '../checkpoint.js';
import { foldChecks } from '../fold-checks.js';
import { createOfflineCheckpoint } from '../offline-checkpoint.js';
import type { CheckPort, CheckRequest } from '../ports.js';

const req = (rule: string, name: string, onError: 'deny' | 'allow' = 'deny'): CheckRequirement => ({ policy: 'gate', version: 3, rule, name, url: 'https://c.example/', timeoutMs: 1000, onError, cacheMs: 0 });
const out = (r: CheckRequirement, verdict: CheckOutcome['verdict'], extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ policy: r.policy, rule: r.rule, name: r.name, verdict, ...extra });
const allowed: Decision = { effect: 'allow', reasons: [{ policy: 'gate', version: 3, rule: 'deploys', effect: 'allow' }], warnings: [], findings: [], obligations: [] };

describe('foldChecks', () => {
  const a = req('deploys', 'freeze');
  const b = req('deploys', 'ticket');

  it('leaves an allow an allow when every check allows, and lists the outcomes', () => {
    const d = foldChecks(allowed, [a, b], [out(a, 'allow'), out(b, 'allow', { reason: 'ticket OPS-1 open' })]);
    expect(d).toEqual({ ...allowed, checks: [out(a, 'allow'), out(b, 'allow', { reason: 'ticket OPS-1 open' })] });
  });

  it('lets one deny beat every other answer, with the check named in the reason', () => {
    const d = foldChecks(allowed, [a, b], [out(a, 'require_approval'), out(b, 'deny', { reason: 'change freeze until Monday' })]);
    expect(d.effect).toBe('deny');
    expect(d.reasons).toEqual([{ policy: 'gate', version: 3, rule: 'deploys', effect: 'deny', message: 'status check `ticket` denied: change freeze until Monday' }]);
    expect(d.approval).toBeUndefined();
    expect(d.checks).toHaveLength(2);
  });

  it('explains a check that failed closed by its error', () => {
    const d = foldChecks(allowed, [a], [{ ...out(a, 'deny'), error: 'no answer within 1000ms' }]);
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]!.message).toBe('status check `freeze` did not answer (no answer within 1000ms), and its onError is deny');
  });

  it('turns an allow into require_approval with a default approval requirement for the rule', () => {
    const d = foldChecks(allowed, [a], [out(a, 'require_approval', { reason: 'large change' })]);
    expect(d.effect).toBe('require_approval');
    expect(d.reasons).toEqual([{ policy: 'gate', version: 3, rule: 'deploys', effect: 'require_approval', message: 'status check `freeze` asks for approval: large change' }]);
    expect(d.approval).toEqual([{ policy: 'gate', rule: 'deploys', approvers: { roles: ['approver'] }, count: 1 }]);
  });

  it('keeps the approval requirement a require_approval rule already gave', () => {
    const own = { policy: 'gate', rule: 'deploys', approvers: { roles: ['maintainer'] }, count: 2 };
    const pending: Decision = { ...allowed, effect: 'require_approval', reasons: [{ policy: 'gate', version: 3, rule: 'deploys', effect: 'require_approval' }], approval: [own] };
    const d = foldChecks(pending, [a], [out(a, 'require_approval')]);
    expect(d.approval).toEqual([own]);
    expect(d.reasons).toHaveLength(2);
    // An allow answer never loosens it.
    expect(foldChecks(pending, [a], [out(a, 'allow')]).effect).toBe('require_approval');
  });
});

const set = setOf(
  settings('acme', '{ defaultEffect: allow }'),
  policy(
    'gate',
    'acme',
    `    - name: deploys
      match: { tools: ["deploy.*"] }
      effect: allow
      checks: [{ name: freeze, url: "https://freeze.example.com/", timeout: 2s }, { name: soft, url: "https://soft.example.com/", onError: allow }]
    - { name: no-wipe, match: { tools: ["deploy.wipe"] }, effect: deny }`,
  ),
);

function harness(port?: CheckPort) {
  const events: AuditEvent[] = [];
  const checkpoint = createCheckpoint({
    policies: { current: () => set },
    registry: { findTool: async () => undefined, findAgent: async () => undefined },
    audit: { append: async (e) => void events.push(...e) },
    clock: { now: () => new Date('2026-11-24T12:00:00Z') },
    ...(port ? { checks: port } : {}),
  });
  return { checkpoint, events };
}

describe('the checks stage', () => {
  it('asks the port with the action to forward, its tenant and digest, and folds the answers into the audited decision', async () => {
    const requests: CheckRequest[] = [];
    const port: CheckPort = {
      run: async (reqs, request) => {
        requests.push(request);
        return reqs.map((r) => ({ policy: r.policy, rule: r.rule, name: r.name, verdict: r.name === 'freeze' ? 'deny' : 'allow', ...(r.name === 'freeze' ? { reason: 'frozen' } : {}) }));
      },
    };
    const { checkpoint, events } = harness(port);
    const action = call('acme/x', 'deploy.release', { args: { v: 2 }, principal: { id: 'alice', roles: ['dev'] }, agent: { id: 'bot' } });
    const r = await checkpoint.check(action, { tenantId: 't1' });
    expect(requests).toHaveLength(1);
    const subject = { kind: 'tool.call', scope: 'acme/x', tool: { server: 'deploy', name: 'deploy.release' }, args: { v: 2 }, principal: 'alice', agent: 'bot' };
    expect(requests[0]).toEqual({ tenantId: 't1', action: subject, digest: digestJson({ tenant: 't1', action: subject }) });
    expect(r.decision).toMatchObject({ effect: 'deny', reasons: [{ rule: 'deploys', message: 'status check `freeze` denied: frozen' }] });
    expect(r.decision.checks?.map((c) => `${c.name}:${c.verdict}`)).toEqual(['freeze:deny', 'soft:allow']);
    expect(events[0]!.decision).toMatchObject({ effect: 'deny', checks: r.decision.checks });
    // The check URLs never leave the pass.
    expect(JSON.stringify(r)).not.toContain('freeze.example.com');
    expect(JSON.stringify(events)).not.toContain('freeze.example.com');
  });

  it('asks nothing when no rule with checks matches, or the decision is already a deny', async () => {
    let calls = 0;
    const { checkpoint } = harness({ run: async () => (calls++, []) });
    expect((await checkpoint.check(call('acme/x', 'files.read'))).decision.checks).toBeUndefined();
    expect((await checkpoint.check(call('acme/x', 'deploy.wipe'))).decision).toMatchObject({ effect: 'deny', reasons: [{ rule: 'no-wipe' }] });
    expect(calls).toBe(0);
  });

  it('follows onError for every check when the port throws or leaves one out', async () => {
    const throwing = harness({ run: async () => Promise.reject(new Error('boom')) });
    const d = (await throwing.checkpoint.check(call('acme/x', 'deploy.release'))).decision;
    expect(d.effect).toBe('deny');
    expect(d.checks).toEqual([
      { policy: 'gate', rule: 'deploys', name: 'freeze', verdict: 'deny', error: 'the check client failed: boom' },
      { policy: 'gate', rule: 'deploys', name: 'soft', verdict: 'allow', error: 'the check client failed: boom' },
    ]);
    const short = harness({ run: async () => [] });
    expect((await short.checkpoint.check(call('acme/x', 'deploy.release'))).decision.checks?.map((c) => c.error)).toEqual(['the check client gave no answer', 'the check client gave no answer']);
  });

  it('runs no check offline: each follows its onError and says why', async () => {
    const d = (await createOfflineCheckpoint({ policies: set }).check(call('acme/x', 'deploy.release'))).decision;
    expect(d.effect).toBe('deny');
    expect(d.checks).toEqual([
      { policy: 'gate', rule: 'deploys', name: 'freeze', verdict: 'deny', error: 'status checks do not run offline' },
      { policy: 'gate', rule: 'deploys', name: 'soft', verdict: 'allow', error: 'status checks do not run offline' },
    ]);
  });
});
