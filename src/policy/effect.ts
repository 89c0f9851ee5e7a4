import type { Effect } from '../domain/index.js';

const RANK: Record<Effect, number> = { allow: 0, require_approval: 1, deny: 2 };

/** deny beats require_approval beats allow. */
export function strongest(a: Effect, b: Effect): Effect {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The combined effect of a list of matched effects, or undefined when the list is empty. */
export function combine(effects: Iterable<Effect>): Effect | undefined {
  let out: Effect | undefined;
  for (const e of effects) out = out === undefined ? e : strongest(out, e);
  return out;
}
