import { WardenError, type AuditEvent } from '../domain/index.js';
import type { Clock } from '../domain/index.js';
import { chainPrepared, printEvent, sanitizeEvent, type PreparedEvent, type SanitizedEvent } from './chain.js';
import type { ChainStore } from './ports.js';

/** Tuning of the group-commit writer. */
export interface AuditWriterOptions {
  /** Most events committed in one transaction. @default 1000 */
  maxBatch?: number;
  /** Most events waiting for commit; beyond it `append` fails fast with `audit.backpressure`. @default 50000 */
  maxQueue?: number;
  /** Hears each group commit: how many events, how long (metrics). */
  onCommit?: (events: number, ms: number) => void;
  /** Hears each append refused with `audit.backpressure` (metrics). */
  onBackpressure?: () => void;
}

/** Counters for metrics and `/readyz`. */
export interface AuditWriterStats {
  queued: number;
  committed: number;
  batches: number;
  failed: number;
}

/** A durable sink: `append` resolves only after the events are committed. */
export interface AuditWriter {
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Resolves once everything appended so far is committed (or failed). */
  flush(): Promise<void>;
  stats(): AuditWriterStats;
}

interface Pending {
  /** The caller's events, copied and cleaned at append: later changes to the caller's objects are not logged. */
  events: readonly SanitizedEvent[];
  /** The events sanitized and canonicalized; set ahead of the commit when the writer had time. */
  prepared: PreparedEvent[] | undefined;
  /** The first events of a large append, prepared so far by the pump. */
  partial?: PreparedEvent[];
  /** Refused when prepared (answered already). */
  failed?: true;
  resolve: () => void;
  reject: (err: unknown) => void;
}

// Events canonicalized per turn of the event loop while a commit is in flight: small enough that
// the commit's own replies are not kept waiting (a slice is well under a millisecond), whatever
// the size of one append.
const PREPARE_SLICE = 32;

/**
 * Group commit: while one transaction runs, new appends queue up and go into the next one, so
 * many concurrent callers share one commit. Every caller is answered only after its commit.
 *
 * Canonicalizing an event (the costly part of hashing it) is kept off the commit's path: queued
 * events are prepared a slice at a time while the database works on the transaction before
 * theirs, so under the chain lock only the sequence numbers, links and hashes remain.
 */
export function createAuditWriter(deps: { store: ChainStore; clock: Clock }, opts: AuditWriterOptions = {}): AuditWriter {
  const maxBatch = opts.maxBatch ?? 1000;
  const maxQueue = opts.maxQueue ?? 50_000;
  const queue: Pending[] = [];
  let queued = 0;
  let running: Promise<void> | undefined;
  let pumping = false;
  const stats = { committed: 0, batches: 0, failed: 0 };

  const writeFailed = (n: number, e: unknown) =>
    new WardenError('audit.write_failed', `the audit log could not commit ${n} event(s): ${e instanceof Error ? e.message : String(e)}`, { cause: e });

  /**
   * Prepares up to `max` more of an item's events; returns how many, or -1 when one of them
   * cannot be prepared: a bad event fails its own caller only, who leaves the queue.
   */
  function prepareSome(it: Pending, max: number): number {
    if (it.prepared) return 0;
    if (it.failed) return -1;
    const part = (it.partial ??= []);
    const from = part.length;
    try {
      const end = Math.min(it.events.length, from + max);
      for (let i = from; i < end; i++) part.push(printEvent(it.events[i]!));
    } catch (e) {
      it.failed = true;
      it.partial = undefined;
      const i = queue.indexOf(it);
      if (i !== -1) queue.splice(i, 1);
      queued -= it.events.length;
      stats.failed += it.events.length;
      it.reject(writeFailed(it.events.length, e));
      return -1;
    }
    if (part.length === it.events.length) {
      it.prepared = part;
      it.partial = undefined;
    }
    return part.length - from;
  }

  const prepare = (it: Pending): boolean => prepareSome(it, Infinity) >= 0;

  // Appended while a commit was in flight, in order, for the pump; some may be prepared (or gone) by now.
  let unprepared: Pending[] = [];
  let next = 0;

  function pump(): void {
    if (pumping) return;
    pumping = true;
    const tick = () => {
      let budget = PREPARE_SLICE;
      while (budget > 0 && next < unprepared.length) {
        const it = unprepared[next]!;
        const n = prepareSome(it, budget);
        if (n > 0) budget -= n;
        if (n < 0 || it.prepared) next++;
      }
      if (running && next < unprepared.length) {
        setImmediate(tick);
        return;
      }
      unprepared = unprepared.slice(next);
      next = 0;
      pumping = false;
    };
    setImmediate(tick);
  }

  /** Commits a batch, one transaction per tenant; `done` collects the tenants committed, so a retry never writes them twice. */
  async function commit(items: readonly Pending[], done: Set<string>): Promise<void> {
    const byTenant = new Map<string, PreparedEvent[]>();
    for (const it of items) for (const e of it.prepared!) {
      if (done.has(e.event.tenantId)) continue;
      const list = byTenant.get(e.event.tenantId);
      if (list) list.push(e);
      else byTenant.set(e.event.tenantId, [e]);
    }
    for (const [tenant, events] of byTenant) {
      await deps.store.appendChained(tenant, (head) => chainPrepared(head, events, deps.clock.now()));
      done.add(tenant);
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch: Pending[] = [];
      let n = 0;
      while (queue.length > 0 && (batch.length === 0 || n + queue[0]!.events.length <= maxBatch)) {
        const it = queue[0]!;
        // Whatever the pump has not reached yet is prepared now; a bad item leaves the queue.
        if (!prepare(it)) continue;
        queue.shift();
        batch.push(it);
        n += it.events.length;
      }
      if (batch.length === 0) continue;
      const done = new Set<string>();
      const t0 = performance.now();
      try {
        await commit(batch, done);
        opts.onCommit?.(n, performance.now() - t0);
        stats.batches++;
        stats.committed += n;
        for (const it of batch) it.resolve();
      } catch (err) {
        // Isolate: retry each caller alone, so one bad event fails only its own request. A
        // tenant whose transaction did commit is not written again.
        for (const it of batch) {
          try {
            if (batch.length === 1 && !it.prepared!.some((e) => done.has(e.event.tenantId))) throw err;
            await commit([it], new Set(done));
            stats.batches++;
            stats.committed += it.events.length;
            it.resolve();
          } catch (e) {
            stats.failed += it.events.length;
            it.reject(writeFailed(it.events.length, e));
          }
        }
      } finally {
        queued -= n;
      }
    }
  }

  function kick(): void {
    running ??= drain().finally(() => {
      running = undefined;
      if (queue.length > 0) kick();
    });
  }

  return {
    append(events) {
      if (events.length === 0) return Promise.resolve();
      if (queued + events.length > maxQueue) {
        opts.onBackpressure?.();
        return Promise.reject(
          new WardenError('audit.backpressure', `the audit log is ${queued} events behind, above its limit of ${maxQueue}`, { help: 'retry after a short wait; if this persists, the database is too slow or down' }),
        );
      }
      // Copied now, not when printed: the caller may reuse or change its objects once append
      // returns (a deferred decision resolves before its commit), and the log must hold the event
      // as it was appended.
      let copies: SanitizedEvent[];
      try {
        copies = events.map(sanitizeEvent);
      } catch (e) {
        stats.failed += events.length;
        return Promise.reject(writeFailed(events.length, e));
      }
      queued += events.length;
      return new Promise<void>((resolve, reject) => {
        const it: Pending = { events: copies, prepared: undefined, resolve, reject };
        queue.push(it);
        // While a commit is in flight, prepare in the background; otherwise the drain does it now.
        if (running) {
          unprepared.push(it);
          pump();
        }
        kick();
      });
    },
    async flush() {
      while (running) await running;
    },
    stats: () => ({ queued, ...stats }),
  };
}
