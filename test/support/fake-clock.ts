import type { Clock } from '../../src/domain/index.js';

/** A `Clock` that moves only when a test moves it. */
export interface FakeClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
}

/**
 * A fake clock starting at `start`; every cache and backoff that reads the injected clock sees it.
 * @example
 * const clock = fakeClock('2026-03-01T10:00:00.000Z');
 * clock.advance(500);
 */
export function fakeClock(start: string | Date = '2026-01-01T00:00:00.000Z'): FakeClock {
  let at = new Date(start).getTime();
  return {
    now: () => new Date(at),
    advance(ms) {
      at += ms;
    },
  };
}
