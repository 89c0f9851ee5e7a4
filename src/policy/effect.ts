import type { Effect } from '../domain/index.js';

/** deny 2, require_approval 1, allow 0; anything else NaN, which compares false both ways (as a missing rank always did). */
function rank(e: Effect): number {
  return e === 'deny' ? 2 : e === 'require_approval' ? 1 : e === 'allow' ? 0 : Number.NaN;
}

/** deny beats require_approval beats allow. */
export function strongest(a: Effect, b: Effect): Effect {
  return rank(a) >= rank(b) ? a : b;
}

/** The combined effect of a list of matched effects, or undefined when the list is empty. */
export function combine(effects: Iterable<Effect>): Effect | undefined {
  let out: Effect | undefined;
  for (const e of effects) out = out === undefined ? e : strongest(out, e);
  return out;
}
