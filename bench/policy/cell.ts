import type { LatencySummary } from '../support/stats.js';
import type { MeasureOptions } from './measure.js';
import type { ScopeLevel } from './model.js';

/** The two engines compared. */
export type EngineName = 'warden' | 'cedar';

/** What one worker process is asked to do: one engine on one set size. */
export interface CellRequest {
  engine: EngineName;
  rules: number;
  seed: number;
  samples: number;
  measure: MeasureOptions;
}

/** Memory figures of one worker process, in MiB. */
export interface CellMemory {
  /** Kernel high-water RSS of the worker (includes generating the synthetic set). */
  rssPeakMiB: number;
  /** Highest sampled V8 heapUsed. */
  heapUsedPeakMiB: number;
  /** RSS after load minus RSS before load (both after a full GC): the engine's own footprint. */
  rssLoadDeltaMiB: number;
  /** heapUsed after load minus before load (both after a full GC). */
  heapLoadDeltaMiB: number;
}

/** A measured cell. */
export interface CellSuccess {
  ok: true;
  engine: EngineName;
  rules: number;
  policies: number;
  rulesPerLevel: Record<ScopeLevel, number>;
  /** Cedar policies actually loaded (warn-mode Warden rules are left out of Cedar). */
  enginePolicies: number;
  generateMs: number;
  loadMs: number;
  latency: LatencySummary;
  decisionsPerSecond: number;
  timedMs: number;
  warmupCalls: number;
  /** Encoded outcome of actions 0..covered-1. */
  outcomes: string[];
  covered: number;
  memory: CellMemory;
  /** Warden only: mean number of candidate rules the index returned per sampled action. */
  candidatesMean?: number;
  /** 1-minute load average of the machine when the cell started measuring and when it ended (it is shared). */
  loadAverage: { start: number; end: number };
}

/** A cell that could not be measured, and why. */
export interface CellFailure {
  ok: false;
  engine: EngineName;
  rules: number;
  reason: string;
}

/** What a worker sends back. */
export type CellResult = CellSuccess | CellFailure;
