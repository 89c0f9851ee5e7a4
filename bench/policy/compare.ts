/** One action on which the engines disagreed. */
export interface Mismatch {
  index: number;
  /** `effect` when the effects differ; `rules` when only the determining rules do. */
  kind: 'effect' | 'rules';
  warden: string;
  cedar: string;
}

/** The result of comparing two engines on the actions both decided. */
export interface Equivalence {
  checked: number;
  mismatches: Mismatch[];
  /** How the checked actions were decided (Warden's outcome), e.g. `{ allow: 812, deny: 901, ... }`. */
  effects: Record<string, number>;
}

const effectOf = (encoded: string) => encoded.slice(0, encoded.indexOf('|'));

/** Labels an outcome for the effect histogram; a deny with no determining rule is the scope default. */
function effectLabel(encoded: string): string {
  const effect = effectOf(encoded);
  return effect === 'deny' && encoded === 'deny|' ? 'default deny' : effect;
}

/**
 * Compares encoded outcomes (`effect|rule,rule`) action by action over the prefix both engines
 * decided: first the effect (allow / deny / require_approval), then the set of determining rules.
 */
export function compareOutcomes(warden: readonly string[], cedar: readonly string[]): Equivalence {
  const checked = Math.min(warden.length, cedar.length);
  const mismatches: Mismatch[] = [];
  const effects: Record<string, number> = {};
  for (let i = 0; i < checked; i++) {
    const w = warden[i]!;
    const c = cedar[i]!;
    const label = effectLabel(w);
    effects[label] = (effects[label] ?? 0) + 1;
    if (w === c) continue;
    mismatches.push({ index: i, kind: effectOf(w) === effectOf(c) ? 'rules' : 'effect', warden: w, cedar: c });
  }
  return { checked, mismatches, effects };
}
