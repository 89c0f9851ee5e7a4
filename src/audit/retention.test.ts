import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/index.js';
import type { LegalHold, RetentionStore } from './ports.js';
import { createRetentionService, type RetentionActor } from './retention.js';

const LEGAL: RetentionActor = { type: 'user', id: 'token:0123456789ab', name: 'legal', authMethod: 'token' };

/** A store holding holds in memory: just what the hold operations use. */
function harness() {
  const holds: LegalHold[] = [];
  const events: AuditEvent[] = [];
  const store = {
    addHold: async (h: LegalHold) => void holds.push(h),
    holds: async (tenantId?: string) => holds.filter((h) => tenantId === undefined || h.tenantId === tenantId),
    releaseHold: async (id: string) => {
      const h = holds.find((x) => x.id === id && x.releasedAt === undefined);
      if (h) h.releasedAt = 'now';
      return h !== undefined;
    },
  } as unknown as RetentionStore;
  const svc = createRetentionService({ store, audit: { append: async (e) => void events.push(...e) }, clock: { now: () => new Date('2026-12-01T00:00:00Z') } });
  return { svc, holds, events };
}

describe('legal hold bounds', () => {
  it('are one UTC instant at millisecond precision in the row and in the chained event alike', async () => {
    const { svc, holds, events } = harness();
    await svc.addHold({ tenantId: 'default', scope: 'acme', from: '2026-01-01T12:00:00.000500Z', to: '2026-01-02T09:00:00+09:00', reason: 'case 1' }, LEGAL);
    expect(holds[0]).toMatchObject({ from: '2026-01-01T12:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
    expect(events[0]!.details).toMatchObject({ from: '2026-01-01T12:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
  });

  it('refuse a time without an offset (the store and the verifier would read it in different zones)', async () => {
    const { svc, holds } = harness();
    await expect(svc.addHold({ tenantId: 'default', scope: 'acme', to: '2026-01-01T00:00:00', reason: 'case 2' }, LEGAL)).rejects.toMatchObject({ code: 'request.invalid' });
    expect(holds).toEqual([]);
  });
});

describe('who changed retention', () => {
  it('is the actor of every change event, and the hold names it as its creator', async () => {
    const { svc, events } = harness();
    const hold = await svc.addHold({ tenantId: 'acme', scope: 'acme/a', reason: 'case 3' }, LEGAL);
    expect(hold.createdBy).toBe('token:0123456789ab');
    expect(events[0]).toMatchObject({ type: 'audit.hold.created', tenantId: 'acme', actor: LEGAL });
    const released = await svc.releaseHold('acme', hold.id, LEGAL);
    expect(released).toMatchObject({ id: hold.id, releasedAt: '2026-12-01T00:00:00.000Z' });
    expect(events[1]).toMatchObject({ type: 'audit.hold.released', actor: LEGAL });
  });

  it('releases only a hold of the named tenant, and ignores an id that is no hold', async () => {
    const { svc, holds, events } = harness();
    const hold = await svc.addHold({ tenantId: 'acme', scope: 'acme/a', reason: 'case 4' }, LEGAL);
    expect(await svc.releaseHold('other', hold.id, LEGAL)).toBeUndefined();
    expect(await svc.releaseHold('acme', 'not-a-uuid', LEGAL)).toBeUndefined();
    expect(holds[0]!.releasedAt).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['audit.hold.created']);
    expect(await svc.releaseHold('acme', hold.id, LEGAL)).toBeDefined();
    expect(await svc.releaseHold('acme', hold.id, LEGAL)).toBeUndefined();
  });
});
