import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/index.js';
import { call, policy, setOf, settings } from '../policy/test-helpers.js';
import { createCheckpoint } from './checkpoint.js';
import type { RegistryPort } from './ports.js';

const set = setOf(
  settings('acme', '{ defaultEffect: allow }'),
  policy('p', 'acme', `    - { name: high-risk, effect: deny, when: 'has(tool.risk) && tool.risk == "high"', message: high risk }`),
);
const registry: RegistryPort = {
  findTool: async (server, name) => (name === 'deploy.release' ? { server, name, risk: 'high' } : name === 'old.wipe' ? { server, name, status: 'blocked' } : undefined),
  findAgent: async (id) => (id === 'rogue' ? { id, status: 'suspended' } : undefined),
};

function harness(append?: (events: readonly AuditEvent[]) => Promise<void>) {
  const events: AuditEvent[] = [];
  const checkpoint = createCheckpoint({
    policies: { current: () => set },
    registry,
    audit: { append: append ?? (async (e) => void events.push(...e)) },
    clock: { now: () => new Date('2026-11-24T12:00:00Z') },
  });
  return { checkpoint, events };
}

describe('checkpoint', () => {
  it('lets the registry beat what the caller claims', async () => {
    const { checkpoint } = harness();
    const r = await checkpoint.check(call('acme/x', 'deploy.release', { tool: { server: 'deploy', name: 'deploy.release', risk: 'low' } }));
    expect(r.action.tool?.risk).toBe('high');
    expect(r.decision).toMatchObject({ effect: 'deny', reasons: [{ rule: 'high-risk' }] });
  });

  it('refuses suspended agents and blocked tools before policy runs', async () => {
    const { checkpoint } = harness();
    expect((await checkpoint.check(call('acme/x', 'a.b', { agent: { id: 'rogue', status: 'active' } }))).decision.reasons[0]).toMatchObject({ policy: 'registry', rule: 'agent-suspended' });
    expect((await checkpoint.check(call('acme/x', 'old.wipe'))).decision.reasons[0]).toMatchObject({ policy: 'registry', rule: 'tool-blocked' });
  });

  it('audits every decision, allow or deny, and returns the event id', async () => {
    const { checkpoint, events } = harness();
    const a = await checkpoint.check(call('acme/x', 'files.read', { args: { b: 1, a: [2] }, agent: { id: 'agent-1' }, principal: { id: 'bob' } }), { ip: '10.0.0.1' });
    const d = await checkpoint.check(call('acme/x', 'deploy.release'));
    expect(events.map((e) => e.decision?.effect)).toEqual(['allow', 'deny']);
    expect(events.map((e) => e.outcome)).toEqual(['success', 'denied']);
    expect(a.decision.auditEventId).toBe(events[0]!.id);
    expect(events[0]).toMatchObject({ category: 'decision', type: 'tool.call.decided', scope: 'acme/x', tenantId: 'default', actor: { type: 'agent', id: 'agent-1', ip: '10.0.0.1' }, agent: { id: 'agent-1' }, onBehalfOf: { id: 'bob' }, target: { kind: 'tool', server: 'files', name: 'files.read' }, time: '2026-11-24T12:00:00.000Z' });
    expect(events[0]!.payload?.argsDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d.decision.auditEventId).toBe(events[1]!.id);
    expect(events[1]!.id > events[0]!.id).toBe(true);
  });

  it('digests arguments independently of key order', async () => {
    const { checkpoint, events } = harness();
    await checkpoint.check(call('acme/x', 'a.b', { args: { x: 1, y: { p: 1, q: 2 } } }));
    await checkpoint.check(call('acme/x', 'a.b', { args: { y: { q: 2, p: 1 }, x: 1 } }));
    await checkpoint.check(call('acme/x', 'a.b', { args: { y: { q: 2, p: 1 }, x: 2 } }));
    expect(events[0]!.payload?.argsDigest).toBe(events[1]!.payload?.argsDigest);
    expect(events[2]!.payload?.argsDigest).not.toBe(events[0]!.payload?.argsDigest);
  });

  it('gives no decision when the audit event cannot be written', async () => {
    const { checkpoint } = harness(async () => {
      throw new Error('disk full');
    });
    await expect(checkpoint.check(call('acme/x', 'files.read'))).rejects.toThrow('disk full');
  });

  it('defers the commit to `durable` when asked, and still hands the events over before resolving', async () => {
    let commit!: () => void;
    const handed: AuditEvent[] = [];
    const { checkpoint } = harness((e) => {
      handed.push(...e);
      return new Promise<void>((resolve) => (commit = resolve));
    });
    const r = await checkpoint.check(call('acme/x', 'files.read'), undefined, { durability: 'deferred' });
    expect(handed.map((e) => e.id)).toEqual([r.decision.auditEventId]);
    let settled = false;
    void r.durable!.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    commit();
    await r.durable;
    expect(settled).toBe(true);
  });

  it('rejects `durable`, not `check`, when a deferred commit fails, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { checkpoint } = harness(async () => {
        throw new Error('disk full');
      });
      const r = await checkpoint.check(call('acme/x', 'files.read'), undefined, { durability: 'deferred' });
      expect(r.decision.effect).toBe('allow');
      // Nobody awaits `durable` for a while (the caller is busy with its upstream).
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await expect(r.durable).rejects.toThrow('disk full');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('has no `durable` when the commit is awaited (the default)', async () => {
    const { checkpoint } = harness();
    expect((await checkpoint.check(call('acme/x', 'files.read'))).durable).toBeUndefined();
  });

  it('times every stage', async () => {
    const { checkpoint } = harness();
    const r = await checkpoint.check(call('acme/x', 'files.read'));
    expect(Object.keys(r.timings).sort()).toEqual(['approve', 'audit', 'checks', 'detect', 'evaluate', 'identify', 'registry', 'screen']);
  });
});
