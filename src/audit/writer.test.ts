import { describe, expect, it } from 'vitest';
import { isWardenError, newAuditEvent, type AuditEvent } from '../domain/index.js';
import { GENESIS_HASH, type ChainHead } from './chain.js';
import type { ChainStore } from './ports.js';
import { createAuditWriter } from './writer.js';

const clock = { now: () => new Date('2026-11-24T12:00:00Z') };
const ev = (scope = 'acme/x', tenantId = 'default'): AuditEvent =>
  newAuditEvent({ tenantId, scope, category: 'decision', type: 't', outcome: 'success', actor: { type: 'system', id: 's' } });

/** An in-memory chain store whose commits wait for a gate, so tests see what queues meanwhile. */
function memoryStore(opts: { failWhen?: (events: AuditEvent[]) => boolean } = {}) {
  const heads = new Map<string, ChainHead>();
  const committed: AuditEvent[] = [];
  const txSizes: number[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open!: () => void;
  let entered!: () => void;
  const committing = new Promise<void>((r) => (entered = r));
  const store: ChainStore = {
    async appendChained(tenant, build) {
      entered();
      await gate;
      const r = build(heads.get(tenant) ?? { seq: 0, hash: GENESIS_HASH, loggedAt: undefined });
      if (opts.failWhen?.(r.events)) throw new Error('constraint violated');
      heads.set(tenant, r.head);
      committed.push(...r.events);
      txSizes.push(r.events.length);
    },
  };
  return {
    store,
    committed,
    txSizes,
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release: () => open(),
    /** Resolves once the writer has begun a commit (it is then waiting at the gate, if held). */
    committing: () => committing,
  };
}

describe('audit writer', () => {
  it('answers a caller only after its events are committed', async () => {
    const m = memoryStore();
    m.hold();
    const w = createAuditWriter({ store: m.store, clock });
    let done = false;
    const p = w.append([ev()]).then(() => (done = true));
    await m.committing();
    expect(done).toBe(false);
    expect(m.committed).toHaveLength(0);
    m.release();
    await p;
    expect(m.committed).toHaveLength(1);
  });

  it('groups callers that arrive during a commit into the next transaction', async () => {
    const m = memoryStore();
    m.hold();
    const w = createAuditWriter({ store: m.store, clock });
    const first = w.append([ev()]);
    await m.committing();
    const rest = Array.from({ length: 50 }, () => w.append([ev()]));
    m.release();
    await Promise.all([first, ...rest]);
    expect(m.txSizes).toEqual([1, 50]);
    expect(m.committed.map((e) => e.integrity!.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(w.stats()).toMatchObject({ queued: 0, committed: 51, batches: 2, failed: 0 });
  });

  it('caps a transaction at maxBatch events', async () => {
    const m = memoryStore();
    m.hold();
    const w = createAuditWriter({ store: m.store, clock }, { maxBatch: 10 });
    const all = Array.from({ length: 25 }, () => w.append([ev()]));
    m.release();
    await Promise.all(all);
    expect(Math.max(...m.txSizes)).toBeLessThanOrEqual(10);
    expect(m.committed).toHaveLength(25);
  });

  it('refuses new events with audit.backpressure when the queue is full, and recovers', async () => {
    const m = memoryStore();
    m.hold();
    const w = createAuditWriter({ store: m.store, clock }, { maxQueue: 5 });
    const accepted = [w.append([ev(), ev(), ev()]), w.append([ev(), ev()])];
    const err = await w.append([ev()]).catch((e: unknown) => e);
    expect(isWardenError(err) && err.code).toBe('audit.backpressure');
    m.release();
    await Promise.all(accepted);
    await w.append([ev()]);
    expect(m.committed).toHaveLength(6);
  });

  it('fails only the caller whose event the database rejects', async () => {
    const m = memoryStore({ failWhen: (events) => events.some((e) => e.scope === 'poison') });
    m.hold();
    const w = createAuditWriter({ store: m.store, clock });
    const good1 = w.append([ev()]);
    await m.committing();
    const good2 = w.append([ev()]);
    const bad = w.append([ev('poison')]).catch((e: unknown) => e);
    const good3 = w.append([ev()]);
    m.release();
    await Promise.all([good1, good2, good3]);
    const err = await bad;
    expect(isWardenError(err) && err.code).toBe('audit.write_failed');
    expect(m.committed.map((e) => e.integrity!.seq)).toEqual([1, 2, 3]);
    expect(w.stats().failed).toBe(1);
  });

  it('keeps one chain per tenant', async () => {
    const m = memoryStore();
    const w = createAuditWriter({ store: m.store, clock });
    await Promise.all([w.append([ev('a', 't1'), ev('b', 't2')]), w.append([ev('c', 't1')])]);
    const t1 = m.committed.filter((e) => e.tenantId === 't1').map((e) => e.integrity!.seq);
    expect(t1).toEqual([1, 2]);
    expect(m.committed.find((e) => e.tenantId === 't2')!.integrity!.seq).toBe(1);
  });

  it('fails only the caller whose event has no canonical form, whether it arrives idle or during a commit', async () => {
    const m = memoryStore();
    const w = createAuditWriter({ store: m.store, clock });
    const nan = () => ({ ...ev(), latencyMs: Number.NaN });
    const idle = await w.append([nan()]).catch((e: unknown) => e);
    expect(isWardenError(idle) && idle.code).toBe('audit.write_failed');
    m.hold();
    const first = w.append([ev()]);
    await m.committing();
    const during = [w.append([ev()]), w.append([ev(), nan()]).catch((e: unknown) => e), w.append([ev()])];
    m.release();
    const [, , bad] = await Promise.all([first, ...during]);
    expect(isWardenError(bad) && bad.code).toBe('audit.write_failed');
    expect(m.committed.map((e) => e.integrity!.seq)).toEqual([1, 2, 3]);
    expect(w.stats()).toMatchObject({ queued: 0, committed: 3, failed: 3 });
  });

  it('prepares a large append a slice at a time during a commit, and a bad event deep in it fails only that append', async () => {
    const m = memoryStore();
    const w = createAuditWriter({ store: m.store, clock });
    m.hold();
    const first = w.append([ev()]);
    await m.committing();
    const big = Array.from({ length: 200 }, () => ev('acme/big'));
    const bad = [...Array.from({ length: 150 }, () => ev('acme/bad')), { ...ev(), latencyMs: Number.POSITIVE_INFINITY }];
    const pending = [w.append(big), w.append(bad).catch((e: unknown) => e), w.append([ev('acme/after')])];
    // Let the pump run several slices (32 events each) while the commit is held.
    for (let i = 0; i < 12; i++) await new Promise((r) => setImmediate(r));
    m.release();
    const [, , failed] = await Promise.all([first, ...pending]);
    expect(isWardenError(failed) && failed.code).toBe('audit.write_failed');
    expect(m.committed.map((e) => e.scope)).toEqual(['acme/x', ...big.map(() => 'acme/big'), 'acme/after']);
    expect(m.committed.map((e) => e.integrity!.seq)).toEqual(Array.from({ length: 202 }, (_, i) => i + 1));
    expect(w.stats()).toMatchObject({ queued: 0, committed: 202, failed: 151 });
  });

  it('logs an event as it was when appended, whatever the caller changes afterwards', async () => {
    const m = memoryStore();
    const w = createAuditWriter({ store: m.store, clock });
    m.hold();
    const first = w.append([ev()]);
    await m.committing();
    const e = { ...ev('acme/changed'), decision: { effect: 'deny' as const, reasons: [], warnings: [], findings: [], obligations: [] } };
    const second = w.append([e]);
    // A deferred decision resolves before its commit: its caller may go on using the objects.
    e.decision.effect = 'allow' as never;
    (e as { scope: string }).scope = 'acme/other';
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    m.release();
    await Promise.all([first, second]);
    expect(m.committed.map((x) => [x.scope, x.decision?.effect])).toEqual([['acme/x', undefined], ['acme/changed', 'deny']]);
  });

  it('does not write a tenant twice when another tenant of the same batch fails', async () => {
    const m = memoryStore({ failWhen: (events) => events.some((e) => e.scope === 'poison') });
    m.hold();
    const w = createAuditWriter({ store: m.store, clock });
    const first = w.append([ev()]);
    await m.committing();
    // One batch: t1's transaction commits, then t2's fails on the poisoned event.
    const both = w.append([ev('a', 't1'), ev('b', 't2')]);
    const t1 = w.append([ev('c', 't1')]);
    const bad = w.append([ev('poison', 't2')]).catch((e: unknown) => e);
    m.release();
    await Promise.all([first, both, t1]);
    expect(isWardenError(await bad) && (await bad as { code: string }).code).toBe('audit.write_failed');
    expect(m.committed.filter((e) => e.tenantId === 't1').map((e) => [e.scope, e.integrity!.seq])).toEqual([['a', 1], ['c', 2]]);
    expect(m.committed.filter((e) => e.tenantId === 't2').map((e) => e.scope)).toEqual(['b']);
  });
});
