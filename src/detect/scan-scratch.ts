import { createFeatureScratch, type FeatureScratch } from './injection/features.js';
import type { FoldCache, LetterCache } from './normalize/normalize.js';
import { createPatternScratch, type PatternScratch } from './pattern-set.js';
import { createEntropyScratch, type EntropyScratch } from './secrets/checksums.js';

/**
 * The reusable buffers and memo tables of one detector set, passed to the detectors it creates: the
 * pattern sets' shared literal matcher and BitState stamps, the injection model's feature scratch, the
 * entropy counts, and the fold and letter caches of normalization. A detector call is synchronous and async scans of
 * the same set interleave only between detector calls, so one scratch serves all of them; two sets never
 * share one.
 *
 * INVARIANT: no module of src/detect holds mutable state of its own (test/architecture.test.ts); state
 * lives here, owned by the DetectorSet, or in the closures of the detector that created it.
 */
export interface ScanScratch {
  readonly patterns: PatternScratch;
  readonly features: FeatureScratch;
  readonly entropy: EntropyScratch;
  readonly fold: FoldCache;
  readonly letters: LetterCache;
}

/** A fresh scratch for one detector set. */
export function createScanScratch(): ScanScratch {
  return { patterns: createPatternScratch(), features: createFeatureScratch(), entropy: createEntropyScratch(), fold: new Map(), letters: new Map() };
}
