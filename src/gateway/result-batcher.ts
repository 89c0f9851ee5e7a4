import type { AuditSink } from '../domain/index.js';
import type { AuditEvent } from '../domain/index.js';

/** Options of the result-event batcher. */
export interface ResultBatcherOptions {
  /** Longest a result event waits for a decision to ride with. @default 10 */
  maxDelayMs?: number | undefined;
  /** Most result events held back; reaching it writes them at once. @default 256 */
  maxEvents?: number | undefined;
}

/**
 * Two sinks over one durable audit writer, so a tool call costs one commit instead of two.
 *
 * - `decisions` (the checkpoint's sink) appends at once and resolves only when durable, as before;
 *   result events waiting in the batch go into the same append, so they share its transaction.
 * - `results` (the gateway's sink for `tool.call.completed` …) holds events for at most
 *   `maxDelayMs`, then writes them alone. Its promise resolves once they are durable.
 *
 * Without this, the result event of call N is still committing when the decision of call N+1
 * arrives, and the decision waits for that transaction before its own (see bench/RESULTS.md,
 * "Gateway"). A combined append that fails is retried as two (decisions alone, results alone), so a
 * bad result event can never refuse a call.
 */
export function createResultBatcher(sink: Pick<AuditSink, 'append'>, opts: ResultBatcherOptions = {}): { decisions: Pick<AuditSink, 'append'>; results: Pick<AuditSink, 'append'>; flush(): Promise<void> } {
  const maxDelay = opts.maxDelayMs ?? 10;
  const maxEvents = opts.maxEvents ?? 256;
  let held: AuditEvent[] = [];
  let waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;

  const take = () => {
    const batch = { events: held, waiters };
    held = [];
    waiters = [];
    if (timer) clearTimeout(timer);
    timer = undefined;
    return batch;
  };
  const settle = (w: typeof waiters, p: Promise<void>) => {
    p.then(
      () => w.forEach((x) => x.resolve()),
      (err: unknown) => w.forEach((x) => x.reject(err)),
    );
  };
  const writeHeld = (): Promise<void> => {
    const { events, waiters: w } = take();
    if (events.length === 0) return Promise.resolve();
    const p = sink.append(events);
    settle(w, p);
    return p.catch(() => {});
  };

  return {
    decisions: {
      async append(events) {
        if (held.length === 0) return sink.append(events);
        const { events: riders, waiters: w } = take();
        try {
          await sink.append([...riders, ...events]);
          settle(w, Promise.resolve());
        } catch {
          // Isolate: the decision's own commit decides whether the call may go on.
          settle(w, sink.append(riders));
          await sink.append(events);
        }
      },
    },
    results: {
      append(events) {
        if (events.length === 0) return Promise.resolve();
        held.push(...events);
        const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
        if (held.length >= maxEvents) void writeHeld();
        else timer ??= setTimeout(() => void writeHeld(), maxDelay);
        return done;
      },
    },
    flush: writeHeld,
  };
}
