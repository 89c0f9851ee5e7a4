import type { MemoryTracker } from '../support/memory.js';
import type { Progress } from '../support/progress.js';
import { summarizeLatencies, type LatencySummary } from '../support/stats.js';
import { encodeOutcome, type LoadedEngine } from './engine.js';

/** How long to run an engine on one set. */
export interface MeasureOptions {
  /** Untimed warm-up (JIT, caches); its decisions still count for the equivalence check. */
  warmupMs: number;
  /** Keep timing at least this long and at least one full pass over the actions… */
  minMs: number;
  /** …but stop after this long even mid-pass (a slow engine then decides only a prefix). */
  maxMs: number;
}

/** Latencies, throughput and the decision taken on each action the engine reached. */
export interface Measurement {
  latency: LatencySummary;
  /** Timed decisions divided by the timed loop's wall time minus bookkeeping (one thread). */
  decisionsPerSecond: number;
  timedMs: number;
  warmupCalls: number;
  /** Encoded outcome per action index, for the first `covered` actions. */
  outcomes: string[];
  covered: number;
}

const SAMPLE_EVERY = 256;

/**
 * Runs `engine` over the actions in order, cycling: an untimed warm-up, then a timed loop where
 * every call is timed on its own (performance.now around the call only). Each action's outcome is
 * recorded the first time it is decided, outside the clock.
 */
export function measure(engine: LoadedEngine, actionCount: number, opts: MeasureOptions, memory: MemoryTracker, progress: Progress): Measurement {
  const outcomes: string[] = [];
  const record = (i: number, raw: unknown) => {
    if (outcomes[i] === undefined) outcomes[i] = encodeOutcome(engine.outcome(raw));
  };

  let warmupCalls = 0;
  const warmStart = performance.now();
  do {
    const i = warmupCalls % actionCount;
    record(i, engine.decide(i));
    warmupCalls++;
  } while (performance.now() - warmStart < opts.warmupMs);

  let latencies: Float64Array = new Float64Array(1 << 16);
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  // Recording outcomes and sampling memory happen outside the per-call clock; their time is also
  // taken out of the throughput figure.
  let bookkeepingMs = 0;
  while ((elapsed < opts.minMs || calls < actionCount) && elapsed < opts.maxMs) {
    const i = calls % actionCount;
    const t0 = performance.now();
    const raw = engine.decide(i);
    const t1 = performance.now();
    if (calls === latencies.length) latencies = grow(latencies);
    latencies[calls++] = (t1 - t0) * 1000;
    record(i, raw);
    if (calls % SAMPLE_EVERY === 0 || t1 - t0 > 5) {
      memory.sample();
      progress.update(Math.min(calls, actionCount), actionCount, `${calls} decisions, ${((t1 - start) / 1000).toFixed(1)} s`);
    }
    const t2 = performance.now();
    bookkeepingMs += t2 - t1;
    elapsed = t2 - start;
  }
  return {
    latency: summarizeLatencies(latencies.subarray(0, calls)),
    decisionsPerSecond: calls / ((elapsed - bookkeepingMs) / 1000),
    timedMs: elapsed,
    warmupCalls,
    outcomes,
    covered: outcomes.length,
  };
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
