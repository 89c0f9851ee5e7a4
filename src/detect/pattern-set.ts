import { RE2 } from 're2-wasm';

const SURROGATE = /[\uD800-\uDFFF]/g;

/** One named pattern in RE2 syntax; it must not contain capturing groups (use `(?:…)`). */
export interface PatternDef {
  readonly id: string;
  readonly source: string;
  /** Case-insensitive match for this pattern only. */
  readonly ignoreCase?: boolean;
}

/** A match of one pattern of a set, in UTF-16 offsets of the scanned text. */
export interface PatternMatch {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

/** Bounds the work one `matchAll` may do; see `PatternSet.matchAll`. */
export interface MatchLimits {
  /**
   * Window size in chars: re2-wasm copies the whole input into wasm on every `exec`, so matching
   * a long text in one call costs O(n) per match; windows bound that to O(window).
   * @default 1024
   */
  window?: number;
  /** Longest match a pattern can produce; windows overlap by this much. @default 256 */
  maxMatch?: number;
  /** Matches kept per call; past it `truncated` is set and scanning stops. @default 1000 */
  maxMatches?: number;
}

/** The result of `matchAll`; `truncated` is true when `maxMatches` cut the scan short. */
export interface MatchResult {
  readonly matches: PatternMatch[];
  readonly truncated: boolean;
}

/**
 * Many RE2 patterns compiled into one alternation, so a text costs one linear pass per window
 * instead of one per pattern.
 *
 * INVARIANT: every pattern used on untrusted text in src/detect goes through RE2 (linear time), or is a
 * JS RegExp made of a single character class with one quantifier (linear by construction).
 */
export interface PatternSet {
  readonly ids: readonly string[];
  /** Leftmost non-overlapping matches of any pattern, in order. */
  matchAll(text: string, limits?: MatchLimits): MatchResult;
  /** True when any pattern matches somewhere in `text`. */
  test(text: string): boolean;
}

/** Compiles `defs` into one RE2 program; throws on a bad pattern (patterns are ours, so that is a bug). */
export function compilePatternSet(defs: readonly PatternDef[]): PatternSet {
  if (defs.length === 0) throw new Error('a pattern set needs at least one pattern');
  const source = defs.map((d, i) => `(?P<p${i}>${d.ignoreCase ? '(?i)' : ''}${d.source})`).join('|');
  const re = new RE2(source, 'gu');
  const probe = new RE2(source, 'u');
  const ids = defs.map((d) => d.id);
  return {
    ids,
    test: (text) => probe.test(text.replace(SURROGATE, '\uFFFD')),
    matchAll(text, limits = {}) {
      const window = Math.max(limits.window ?? 1024, 256);
      const maxMatch = Math.min(limits.maxMatch ?? 256, window >> 1);
      const maxMatches = limits.maxMatches ?? 1000;
      const matches: PatternMatch[] = [];
      let from = 0; // first raw offset not yet covered by a reported match or a finished window
      for (let wStart = 0; wStart < text.length || wStart === 0; ) {
        const wEnd = Math.min(text.length, wStart + window);
        // re2-wasm counts offsets in code points; folding each surrogate unit to U+FFFD keeps them in UTF-16 units.
        const chunk = text.slice(wStart, wEnd).replace(SURROGATE, '\uFFFD');
        re.lastIndex = Math.max(0, from - wStart);
        // A match that starts in the overlap tail is left to the next window, which sees it whole.
        const tailStart = wEnd < text.length ? wEnd - wStart - maxMatch : chunk.length;
        for (;;) {
          const m = re.exec(chunk);
          if (m === null || m.index >= tailStart) break;
          const len = (m[0] ?? '').length;
          if (len === 0) {
            re.lastIndex = m.index + 1;
            continue;
          }
          let g = 0;
          while (g < defs.length && m[g + 1] === undefined) g++;
          const start = wStart + m.index;
          matches.push({ id: ids[g] ?? ids[0]!, start, end: start + len, value: text.slice(start, start + len) });
          from = start + len;
          if (matches.length >= maxMatches) return { matches, truncated: true };
        }
        if (wEnd >= text.length) break;
        wStart = Math.max(wStart + tailStart, from > wStart + tailStart ? from : wStart + tailStart);
      }
      return { matches, truncated: false };
    },
  };
}
