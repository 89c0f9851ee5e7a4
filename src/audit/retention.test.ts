import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/index.js';
import type { LegalHold, RetentionStore } from './ports.js';
import { createRetentionService } from './retention.js';

function harness() {
  const holds: LegalHold[] = [];
  const events: AuditEvent[] = [];
  const store = { addHold: async (h: LegalHold) => void holds.push(h) } as unknown as RetentionStore;
  const svc = createRetentionService({ store, audit: { append: async (e) => void events.push(...e) }, clock: { now: () => new Date('2026-12-01T00:00:00Z') } });
  return { svc, holds, events };
}

describe('legal hold bounds', () => {
  it('are one UTC instant at millisecond precision in the row and in the chained event alike', async () => {
    const { svc, holds, events } = harness();
    await svc.addHold({ tenantId: 'default', scope: 'acme', from: '2026-01-01T12:00:00.000500Z', to: '2026-01-02T09:00:00+09:00', reason: 'case 1', createdBy: 'legal' });
    expect(holds[0]).toMatchObject({ from: '2026-01-01T12:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
    expect(events[0]!.details).toMatchObject({ from: '2026-01-01T12:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
  });

  it('refuse a time without an offset (the store and the verifier would read it in different zones)', async () => {
    const { svc, holds } = harness();
    await expect(svc.addHold({ tenantId: 'default', scope: 'acme', to: '2026-01-01T00:00:00', reason: 'case 2', createdBy: 'legal' })).rejects.toMatchObject({ code: 'request.invalid' });
    expect(holds).toEqual([]);
  });
});
