import { pushPair, type IntList } from './int-list.js';

/**
 * Finds every occurrence of many lower-case literals in one pass (Aho–Corasick, as a DFA over ASCII).
 * Linear in the text plus the occurrences reported; literals with non-ASCII chars fall back to `indexOf`.
 */
export interface LiteralMatcher {
  /** Appends a `literal, start` pair to `out` for every occurrence in `lower` (already lower-cased), in no set order. */
  scan(lower: string, out: IntList): void;
}

/** Builds the matcher over `literals` (lower case; indices are what `scan` reports). */
export function createLiteralMatcher(literals: readonly string[]): LiteralMatcher {
  const ascii = (s: string) => {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return false;
    return s.length > 0;
  };
  const slow = literals.map((l, i) => [l, i] as const).filter(([l]) => !ascii(l));
  // The DFA reads symbols, not chars: every ASCII char no literal holds is symbol 0, so rows stay short.
  const symbol = new Uint8Array(128);
  let symbols = 1;
  for (const l of literals) {
    if (!ascii(l)) continue;
    for (let i = 0; i < l.length; i++) if (symbol[l.charCodeAt(i)] === 0) symbol[l.charCodeAt(i)] = symbols++;
  }
  let states = 1;
  for (const l of literals) if (ascii(l)) states += l.length;
  // INVARIANT: delta is a complete DFA over `symbols` once built; -1 marks "no trie edge" only while building.
  const delta = new Int32Array(states * symbols).fill(-1);
  const outs: number[][] = [[]];
  let next = 1;
  literals.forEach((l, id) => {
    if (!ascii(l)) return;
    let s = 0;
    for (let i = 0; i < l.length; i++) {
      const k = s * symbols + symbol[l.charCodeAt(i)]!;
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
  for (let c = 0; c < symbols; c++) {
    const t = delta[c]!;
    // Symbol 0 never starts a literal, so it always leads back to the root.
    if (t === -1 || c === 0) delta[c] = 0;
    else {
      fail[t] = 0;
      queue.push(t);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q]!;
    const f = fail[s]!;
    if (outs[f]!.length > 0) outs[s] = [...outs[s]!, ...outs[f]!];
    for (let c = 0; c < symbols; c++) {
      const t = delta[s * symbols + c]!;
      if (t === -1) delta[s * symbols + c] = delta[f * symbols + c]!;
      else {
        fail[t] = delta[f * symbols + c]!;
        queue.push(t);
      }
    }
  }
  const lengths = literals.map((l) => l.length);
  // The same DFA with each target as its row's offset (state * symbols), bit-inverted (so negative) when
  // the state reports literals: a step is one table read, with no multiply and no second lookup.
  const step = new Int32Array(next * symbols);
  for (let k = 0; k < step.length; k++) {
    const t = delta[k]!;
    step[k] = outs[t]!.length > 0 ? ~(t * symbols) : t * symbols;
  }
  return {
    scan(lower, out) {
      let s = 0;
      for (let i = 0; i < lower.length; i++) {
        const c = lower.charCodeAt(i);
        // A non-ASCII char is in no ASCII literal: back to the root (which reports none), as symbol 0 leads.
        if (c >= 128) {
          s = 0;
          continue;
        }
        s = step[s + symbol[c]!]!;
        if (s >= 0) continue;
        s = ~s;
        const o = outs[s / symbols]!;
        for (let k = 0; k < o.length; k++) pushPair(out, o[k]!, i - lengths[o[k]!]! + 1);
      }
      for (const [l, id] of slow) for (let p = lower.indexOf(l); p >= 0; p = lower.indexOf(l, p + 1)) pushPair(out, id, p);
    },
  };
}
