import { readFileSync } from 'node:fs';

/** High-water marks of process memory, in bytes. */
export interface MemoryPeaks {
  /** Peak resident set size of the whole process (the kernel's high-water mark). */
  rssPeak: number;
  /** Highest V8 `heapUsed` seen at any sample point. */
  heapUsedPeak: number;
}

/** Samples `heapUsed` cheaply at the points a caller chooses and reads the kernel's RSS high-water. */
export interface MemoryTracker {
  /** Takes one sample; call it between units of work, outside timed regions (it reads /proc). */
  sample(): void;
  /** The peaks so far. */
  peaks(): MemoryPeaks;
}

/** Creates a tracker; `process.resourceUsage().maxRSS` is in kilobytes on Linux and macOS. */
export function createMemoryTracker(): MemoryTracker {
  let heapUsedPeak = 0;
  const sample = () => {
    const used = process.memoryUsage().heapUsed;
    if (used > heapUsedPeak) heapUsedPeak = used;
  };
  sample();
  return {
    sample,
    peaks() {
      sample();
      return { rssPeak: process.resourceUsage().maxRSS * 1024, heapUsedPeak };
    },
  };
}

/** Runs a full GC when the process was started with `--expose-gc`, so a snapshot shows retained memory. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Every descendant of a process (children, their children, …), from /proc; empty once it is gone. */
export function descendants(pid: number): number[] {
  try {
    const ids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return ids.flatMap((c) => [c, ...descendants(c)]);
  } catch {
    return [];
  }
}
