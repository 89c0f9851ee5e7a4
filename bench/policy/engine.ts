import type { RuleEffect } from './model.js';

/**
 * What an engine decided on one action, in engine-neutral terms: the effect and the rules that
 * determined it (`policy/rule`, sorted; empty when the default effect applied).
 */
export interface Outcome {
  effect: RuleEffect;
  rules: string[];
  /** Run-time errors the engine reported (a condition that failed); generated sets should have none. */
  errors: string[];
}

/**
 * One engine loaded with one policy set, ready to decide the prepared actions by index.
 * `decide` is what gets timed; `outcome` converts its raw answer afterwards, outside the clock.
 */
export interface LoadedEngine<Raw = unknown> {
  decide(index: number): Raw;
  outcome(raw: Raw): Outcome;
}

/** Encodes an outcome as one compact line, for IPC and for comparing. */
export function encodeOutcome(o: Outcome): string {
  return `${o.effect}|${o.rules.join(',')}${o.errors.length > 0 ? `|errors: ${o.errors.join('; ')}` : ''}`;
}
