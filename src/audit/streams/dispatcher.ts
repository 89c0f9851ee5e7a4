import type { Clock } from '../../domain/index.js';
import type { AuditEvent } from '../../domain/index.js';
import type { ChainReader, DeliveryStore } from '../ports.js';
import { destinationFilter, type DestinationDoc, type Transport } from './destination.js';

/** A configured destination with its transport. */
export interface Destination {
  doc: DestinationDoc;
  transport: Transport;
}

/** Streams the audit log to destinations: at least once, in chain order per tenant, surviving restarts. */
export interface Dispatcher {
  /** One pass over every destination and tenant; resolves when the pass is done. */
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

const SCAN_LIMIT = 5000;

/** Builds the dispatcher; each replica passes its own `owner` id so leases keep them apart. */
export function createDispatcher(
  deps: {
    destinations: readonly Destination[];
    chain: ChainReader;
    store: DeliveryStore;
    clock: Clock;
    owner: string;
    onError?: (err: unknown) => void;
    /** Hears how far a destination is behind a tenant's chain head after each pass: events, and the age of the oldest undelivered one (metrics). */
    onLag?: (destination: string, tenantId: string, events: number, seconds: number) => void;
  },
  opts: { pollMs?: number; leaseMs?: number; random?: () => number } = {},
): Dispatcher {
  const filters = new Map(deps.destinations.map((d) => [d.doc.metadata.name, destinationFilter(d.doc)]));
  const leaseMs = opts.leaseMs ?? 30_000;
  const random = opts.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function pump(d: Destination, tenantId: string): Promise<void> {
    const name = d.doc.metadata.name;
    const state = await deps.store.claim(name, tenantId, deps.owner, leaseMs);
    if (!state) return;
    try {
      const now = deps.clock.now();
      if (state.nextAttempt && Date.parse(state.nextAttempt) > now.getTime()) return;
      const head = await deps.chain.head(tenantId);
      if (head.seq <= state.cursorSeq) {
        deps.onLag?.(name, tenantId, 0, 0);
        return;
      }
      const filter = filters.get(name)!;
      const batchSize = d.doc.spec.batchSize ?? 100;
      const batch: AuditEvent[] = [];
      let considered = state.cursorSeq;
      let scanned = 0;
      for await (const e of deps.chain.streamChain(tenantId, { fromSeq: state.cursorSeq + 1, batchSize: Math.min(1000, batchSize * 4) })) {
        considered = e.integrity!.seq;
        scanned++;
        // Stubs of events retention removed are stepped over: there is nothing left to send.
        if (!('stub' in e) && filter(e)) batch.push(e);
        if (batch.length >= batchSize || scanned >= SCAN_LIMIT) break;
      }
      if (batch.length === 0) {
        await deps.store.advance(name, tenantId, deps.owner, considered, 0);
        deps.onLag?.(name, tenantId, head.seq - considered, 0);
        return;
      }
      const oldest = (now.getTime() - Date.parse(batch[0]!.time)) / 1000;
      try {
        await d.transport.deliver(name, tenantId, batch);
        await deps.store.advance(name, tenantId, deps.owner, considered, batch.length);
        deps.onLag?.(name, tenantId, head.seq - considered, head.seq > considered ? oldest : 0);
      } catch (err) {
        deps.onLag?.(name, tenantId, head.seq - state.cursorSeq, Math.max(0, oldest));
        const message = err instanceof Error ? err.message : String(err);
        const attempts = state.attempts + 1;
        const retry = d.doc.spec.retry ?? {};
        if (attempts >= (retry.maxAttempts ?? 8)) {
          // Give up on the first event only: the rest get a fresh set of attempts, in order.
          const first = batch[0]!;
          await deps.store.deadLetter(name, tenantId, deps.owner, first.integrity!.seq, first.id, message, attempts);
          return;
        }
        const base = Math.min(retry.maxBackoffMs ?? 60_000, (retry.initialBackoffMs ?? 500) * 2 ** (attempts - 1));
        const delay = base / 2 + (base / 2) * random();
        await deps.store.fail(name, tenantId, deps.owner, message, attempts, new Date(now.getTime() + delay));
      }
    } finally {
      await deps.store.release(name, tenantId, deps.owner);
    }
  }

  async function tick(): Promise<void> {
    const tenants = await deps.chain.tenants();
    for (const d of deps.destinations) {
      for (const t of tenants) {
        if (d.doc.spec.tenant !== undefined && d.doc.spec.tenant !== t) continue;
        try {
          await pump(d, t);
        } catch (err) {
          deps.onError?.(err);
        }
      }
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => deps.onError?.(err))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, opts.pollMs ?? 500);
    timer.unref();
  };

  return {
    tick,
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      for (const d of deps.destinations) await d.transport.close().catch(() => undefined);
    },
  };
}
