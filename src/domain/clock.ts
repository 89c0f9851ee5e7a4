/** Time source, injected so tests control it; every timer and cache of Warden reads time from one. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };
