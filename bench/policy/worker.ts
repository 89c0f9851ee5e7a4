/**
 * One bench cell in its own process: generate the set, load it into one engine, time decisions.
 * Running each engine and size in a fresh process keeps memory figures and JIT state separate and
 * lets a cell that runs out of memory fail alone. Started by policy-bench.ts; not run by hand.
 */
import { loadavg } from 'node:os';
import { collectGarbage, createMemoryTracker, type MemoryTracker } from '../support/memory.js';
import { createProgress } from '../support/progress.js';
import { cedarEngine, loadCedarSet } from './cedar-engine.js';
import { toCedarCall, toCedarPolicies } from './cedar-translate.js';
import type { CellMemory, CellRequest, CellResult, CellSuccess } from './cell.js';
import type { LoadedEngine } from './engine.js';
import { generateWorkload, type Workload } from './workload.js';
import { measure } from './measure.js';
import { loadWardenSet, toWardenAction, toWardenSources, wardenEngine } from './warden-engine.js';

const MiB = 1024 * 1024;

interface Loaded {
  engine: LoadedEngine;
  enginePolicies: number;
  loadMs: number;
  candidatesMean?: number;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

function loadWarden(w: Workload): Loaded {
  const sources = toWardenSources(w.set);
  collectGarbage();
  const { value: set, ms } = timed(() => loadWardenSet(sources));
  const actions = w.actions.map(toWardenAction);
  const candidates = actions.reduce((sum, a) => sum + set.index.candidates(a).length, 0);
  return { engine: wardenEngine(set, actions), enginePolicies: set.rules.length, loadMs: ms, candidatesMean: candidates / actions.length };
}

function loadCedar(w: Workload, id: string): Loaded {
  const policies = toCedarPolicies(w.set);
  collectGarbage();
  const { ms } = timed(() => loadCedarSet(id, policies));
  const calls = w.actions.map((a, i) => toCedarCall(a, i, id));
  return { engine: cedarEngine(calls), enginePolicies: Object.keys(policies).length, loadMs: ms };
}

function snapshot(): { rss: number; heapUsed: number } {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

function memoryOf(tracker: MemoryTracker, before: { rss: number; heapUsed: number }, after: { rss: number; heapUsed: number }): CellMemory {
  const peaks = tracker.peaks();
  return {
    rssPeakMiB: peaks.rssPeak / MiB,
    heapUsedPeakMiB: peaks.heapUsedPeak / MiB,
    rssLoadDeltaMiB: (after.rss - before.rss) / MiB,
    heapLoadDeltaMiB: (after.heapUsed - before.heapUsed) / MiB,
  };
}

/** Runs one cell; every failure (a rejected set, an engine crash) comes back as a CellFailure. */
export function runCell(req: CellRequest): CellResult {
  const label = `[${req.engine} ${req.rules}]`;
  const progress = createProgress(label);
  const tracker = createMemoryTracker();
  try {
    const gen = timed(() => generateWorkload(req.rules, req.seed, req.samples));
    tracker.sample();
    progress.done(`generated ${gen.value.set.policies.length} policies in ${(gen.ms / 1000).toFixed(1)} s; loading`);
    const before = snapshot();
    const loaded = req.engine === 'warden' ? loadWarden(gen.value) : loadCedar(gen.value, `bench-${req.rules}`);
    tracker.sample();
    const after = snapshot();
    progress.done(`loaded in ${(loaded.loadMs / 1000).toFixed(2)} s; measuring`);
    const loadStart = loadavg()[0]!;
    const m = measure(loaded.engine, req.samples, req.measure, tracker, progress);
    progress.done(`${m.latency.count} timed decisions, p50 ${m.latency.p50Us.toFixed(1)} µs, ${m.covered}/${req.samples} actions covered`);
    const result: CellSuccess = {
      ok: true,
      engine: req.engine,
      rules: req.rules,
      policies: gen.value.set.policies.length,
      rulesPerLevel: gen.value.set.rulesPerLevel,
      enginePolicies: loaded.enginePolicies,
      generateMs: gen.ms,
      loadMs: loaded.loadMs,
      ...m,
      memory: memoryOf(tracker, before, after),
      loadAverage: { start: loadStart, end: loadavg()[0]! },
      ...(loaded.candidatesMean !== undefined ? { candidatesMean: loaded.candidatesMean } : {}),
    };
    return result;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    progress.done(`failed: ${reason}`);
    return { ok: false, engine: req.engine, rules: req.rules, reason };
  }
}

const send = process.send?.bind(process);
if (send) {
  const req = JSON.parse(process.argv[2] ?? '') as CellRequest;
  const result = runCell(req);
  send(result, () => process.exit(0));
}
