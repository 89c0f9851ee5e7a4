import { WardenError, type AuditEvent } from '../domain/index.js';
import type { Clock } from '../domain/index.js';
import { chainPrepared, prepareEvent, type PreparedEvent } from './chain.js';
import type { ChainStore } from './ports.js';
import { sanitizeForLog } from './sanitize.js';

/** Tuning of the group-commit writer. */
export interface AuditWriterOptions {
  /** Most events committed in one transaction. @default 1000 */
  maxBatch?: number;
  /** Most events waiting for commit; beyond it `append` fails fast with `audit.backpressure`. @default 50000 */
  maxQueue?: number;
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
  events: PreparedEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: while one transaction runs, new appends queue up and go into the next one, so
 * many concurrent callers share one commit. Every caller is answered only after its commit.
 */
export function createAuditWriter(deps: { store: ChainStore; clock: Clock }, opts: AuditWriterOptions = {}): AuditWriter {
  const maxBatch = opts.maxBatch ?? 1000;
  const maxQueue = opts.maxQueue ?? 50_000;
  const queue: Pending[] = [];
  let queued = 0;
  let running: Promise<void> | undefined;
  const stats = { committed: 0, batches: 0, failed: 0 };

  async function commit(items: Pending[]): Promise<void> {
    const byTenant = new Map<string, PreparedEvent[]>();
    for (const it of items) for (const e of it.events) {
      const list = byTenant.get(e.event.tenantId);
      if (list) list.push(e);
      else byTenant.set(e.event.tenantId, [e]);
    }
    for (const [tenant, events] of byTenant) {
      await deps.store.appendChained(tenant, (head) => chainPrepared(head, events, deps.clock.now()));
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch: Pending[] = [];
      let n = 0;
      while (queue.length > 0 && (batch.length === 0 || n + queue[0]!.events.length <= maxBatch)) {
        const it = queue.shift()!;
        batch.push(it);
        n += it.events.length;
      }
      try {
        await commit(batch);
        stats.batches++;
        stats.committed += n;
        for (const it of batch) it.resolve();
      } catch (err) {
        // Isolate: retry each caller alone, so one bad event fails only its own request.
        for (const it of batch) {
          try {
            if (batch.length === 1) throw err;
            await commit([it]);
            stats.batches++;
            stats.committed += it.events.length;
            it.resolve();
          } catch (e) {
            stats.failed += it.events.length;
            it.reject(new WardenError('audit.write_failed', `the audit log could not commit ${it.events.length} event(s): ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
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
        return Promise.reject(
          new WardenError('audit.backpressure', `the audit log is ${queued} events behind, above its limit of ${maxQueue}`, { help: 'retry after a short wait; if this persists, the database is too slow or down' }),
        );
      }
      // Canonicalized now, while an earlier commit may still be in flight: under the chain lock
      // the writer only splices in the sequence number, link and log time, and hashes.
      let prepared: PreparedEvent[];
      try {
        prepared = events.map((e) => prepareEvent(sanitizeForLog(e)));
      } catch (e) {
        stats.failed += events.length;
        return Promise.reject(new WardenError('audit.write_failed', `the audit log could not commit ${events.length} event(s): ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      }
      queued += events.length;
      return new Promise<void>((resolve, reject) => {
        queue.push({ events: prepared, resolve, reject });
        kick();
      });
    },
    async flush() {
      while (running) await running;
    },
    stats: () => ({ queued, ...stats }),
  };
}
