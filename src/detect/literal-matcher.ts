/**
 * Finds every occurrence of many lower-case literals in one pass (Aho–Corasick, as a DFA over ASCII).
 * Linear in the text plus the occurrences reported; literals with non-ASCII chars fall back to `indexOf`.
 */
export interface LiteralMatcher {
  /** Calls `hit(literal, start)` for every occurrence in `lower` (already lower-cased), in no set order. */
  scan(lower: string, hit: (literal: number, start: number) => void): void;
}

/** Builds the matcher over `literals` (lower case; indices are what `scan` reports). */
export function createLiteralMatcher(literals: readonly string[]): LiteralMatcher {
  const ascii = (s: string) => {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return false;
    return s.length > 0;
  };
  const slow = literals.map((l, i) => [l, i] as const).filter(([l]) => !ascii(l));
  let states = 1;
  for (const l of literals) if (ascii(l)) states += l.length;
  // INVARIANT: delta is a complete DFA over 128 symbols once built; -1 marks "no trie edge" only while building.
  const delta = new Int32Array(states * 128).fill(-1);
  const outs: number[][] = [[]];
  let next = 1;
  literals.forEach((l, id) => {
    if (!ascii(l)) return;
    let s = 0;
    for (let i = 0; i < l.length; i++) {
      const k = s * 128 + l.charCodeAt(i);
      if (delta[k] === -1) {
        delta[k] = next;
        outs[next++] = [];
      }
      s = delta[k]!;
    }
    outs[s]!.push(id);
  });
  const fail = new Int32Array(next);
  const queue: number[] = [];
  for (let c = 0; c < 128; c++) {
    const t = delta[c]!;
    if (t === -1) delta[c] = 0;
    else {
      fail[t] = 0;
      queue.push(t);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q]!;
    const f = fail[s]!;
    if (outs[f]!.length > 0) outs[s] = [...outs[s]!, ...outs[f]!];
    for (let c = 0; c < 128; c++) {
      const t = delta[s * 128 + c]!;
      if (t === -1) delta[s * 128 + c] = delta[f * 128 + c]!;
      else {
        fail[t] = delta[f * 128 + c]!;
        queue.push(t);
      }
    }
  }
  const lengths = literals.map((l) => l.length);
  const hasOut = new Uint8Array(next);
  for (let i = 0; i < next; i++) hasOut[i] = outs[i]!.length > 0 ? 1 : 0;
  return {
    scan(lower, hit) {
      let s = 0;
      for (let i = 0; i < lower.length; i++) {
        const c = lower.charCodeAt(i);
        if (c >= 128) {
          s = 0;
          continue;
        }
        s = delta[s * 128 + c]!;
        if (hasOut[s] === 0) continue;
        const o = outs[s]!;
        for (let k = 0; k < o.length; k++) hit(o[k]!, i - lengths[o[k]!]! + 1);
      }
      for (const [l, id] of slow) for (let p = lower.indexOf(l); p >= 0; p = lower.indexOf(l, p + 1)) hit(id, p);
    },
  };
}
