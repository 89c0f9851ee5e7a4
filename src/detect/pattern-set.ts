import { RE2 } from 're2-wasm';
import { compileBitState, type BitStateProgram } from './bitstate.js';
import { createLiteralMatcher } from './literal-matcher.js';

const SURROGATE = /[\uD800-\uDFFF]/g;

/**
 * One named pattern in RE2 syntax; it must not contain capturing groups (use `(?:…)`).
 *
 * A pattern may name a prefilter: `anchors` (literals) or `run` (a run of chars), one of which every
 * match contains. RE2 then runs only on small windows around prefilter hits instead of the whole text:
 * re2-wasm copies its input into wasm on every call and scans at ~30 MB/s, so this is most of the speed.
 * A pattern with neither is matched over the whole text.
 */
export interface PatternDef {
  readonly id: string;
  readonly source: string;
  /** Case-insensitive match for this pattern only. */
  readonly ignoreCase?: boolean;
  /** Lower-case literals, one of which every match contains (compared ASCII case-insensitively). */
  readonly anchors?: readonly string[];
  /** Lower-case literals one of which every match also contains; a hit's window without one is skipped. */
  readonly also?: readonly string[];
  /** Or: every match lies in a run of chars from `chars` (ASCII) holding at least `min` chars of `core` (default: `chars`). */
  readonly run?: { readonly chars: string; readonly min: number; readonly core?: string };
  /** Most chars a match can start before its anchor (or run) starts. @default 48 */
  readonly before?: number;
  /** Most chars a match can end past the end of its anchor (or run); longer matches are cut here. @default 256 */
  readonly after?: number;
  /** Widen the window left of `before` to the start of the token (whitespace) or line, for `[^\s]+`/`[^\n]*` heads. */
  readonly left?: Extent;
  /** Widen the window right of `after` to the end of the token or line, for `[^\s]+`/`[^\n]*` tails. */
  readonly right?: Extent;
}

/** How far an unbounded part of a pattern can reach: to the next whitespace, or to the next newline. */
export type Extent = 'token' | 'line';

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
 * Many RE2 patterns behind cheap literal prefilters; matches are resolved as one alternation would
 * (leftmost first, then the earlier pattern, non-overlapping).
 *
 * INVARIANT: every pattern used on untrusted text in src/detect goes through RE2 (linear time), or is a
 * JS RegExp made of a single character class with at most one quantifier (linear by construction).
 * Prefilters are one Aho–Corasick pass (literal-matcher.ts) and single-pass char scans; a pattern's RE2
 * windows are merged so they never overlap, and each window is read in bounded chunks, so the work per
 * pattern stays linear in the text. pattern-set.test.ts checks the prefiltered matches against a full scan.
 */
export interface PatternSet {
  readonly ids: readonly string[];
  /** Leftmost non-overlapping matches of any pattern, in order. */
  matchAll(text: string, limits?: MatchLimits): MatchResult;
  /** True when any pattern matches somewhere in `text`. */
  test(text: string): boolean;
}

/** Options for `compilePatternSet`. */
export interface PatternSetOptions {
  /** Use the patterns' prefilters. Off, every pattern scans the whole text (the reference the tests compare to). @default true */
  prefilter?: boolean;
  /** Matcher behind the prefilter: `auto` uses bitstate.ts where a pattern's syntax allows, else RE2. @default 'auto' */
  engine?: 'auto' | 're2';
}

interface Compiled {
  readonly index: number;
  readonly id: string;
  readonly re: RE2;
  /** The same pattern as a linear backtracking program (bitstate.ts), used instead of RE2 when it compiles. */
  readonly bs: BitStateProgram | undefined;
  readonly anchors: readonly string[];
  readonly also: readonly string[];
  /** Per ASCII char: 0 outside the run class, 1 in it, 2 in its core. */
  readonly run: Uint8Array | undefined;
  readonly runMin: number;
  readonly before: number;
  readonly after: number;
  readonly left: ((c: number) => boolean) | undefined;
  readonly right: ((c: number) => boolean) | undefined;
}

interface Candidate {
  readonly g: number;
  readonly start: number;
  readonly end: number;
}

// RE2's \s: [\t\n\f\r ], without \v; a token extent must not stop where a pattern's match goes on.
const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 12;
const isNewline = (c: number) => c === 10;
const edge = (e: Extent | undefined) => (e === undefined ? undefined : e === 'token' ? isSpace : isNewline);

// Several pattern sets read the same view in a row; the last fold is reused.
let lastText = '';
let lastLower = '';

/** ASCII-only lower case: same length as `text`, so offsets carry over. */
function foldAscii(text: string): string {
  if (text === lastText) return lastLower;
  lastText = text;
  lastLower = foldUncached(text);
  return lastLower;
}

function foldUncached(text: string): string {
  // RE2's (?i) also folds LONG S to s (KELVIN SIGN lowers to k by itself); an anchor must see both.
  const lower = text.toLowerCase().replace(/\u017f/g, 's');
  if (lower.length === text.length) return lower;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : c === 0x17f ? 's' : c === 0x212a ? 'k' : text[i];
  }
  return out;
}

/**
 * Leftmost non-overlapping matches of `re` in `text[from, to)`, in windows of `window` chars that
 * overlap by `maxMatch`, so no exec call copies more than one window into wasm.
 */
function scanRange(re: RE2, bs: BitStateProgram | undefined, text: string, from: number, to: number, window: number, maxMatch: number, out: Candidate[], g: number, lastHitEnd: number): void {
  let done = from; // first offset not yet covered by a reported match or a finished window
  for (let wStart = from; wStart < to || wStart === from; ) {
    const wEnd = Math.min(to, wStart + window);
    if (bs !== undefined) {
      // Same window and left context as the RE2 path below, without copying anything.
      const cs = wStart > 0 ? wStart - 1 : 0;
      const tailStart = wEnd < to ? wEnd - maxMatch : wEnd;
      let at = Math.max(done, wStart);
      for (;;) {
        const m = at <= wEnd ? bs.exec(text, cs, wEnd, at) : null;
        if (m === null || m.index >= tailStart) break;
        if (m.end === m.index) {
          at = m.index + 1;
          continue;
        }
        out.push({ g, start: m.index, end: m.end });
        done = at = m.end;
        if (done >= lastHitEnd) return;
      }
      if (wEnd >= to) break;
      wStart = Math.max(tailStart, done);
      continue;
    }
    // re2-wasm counts offsets in code points; folding each surrogate unit to U+FFFD keeps them in UTF-16 units.
    // One char of left context: RE2 reads it for `\b` and `(?m)^` at the window's first offset.
    const cs = wStart > 0 ? wStart - 1 : 0;
    const chunk = text.slice(cs, wEnd).replace(SURROGATE, '\uFFFD');
    re.lastIndex = Math.max(done, wStart) - cs;
    // A match that starts in the overlap tail is left to the next window, which sees it whole.
    const tailStart = wEnd < to ? wEnd - cs - maxMatch : chunk.length;
    for (;;) {
      const m = re.exec(chunk);
      if (m === null || m.index >= tailStart) break;
      const len = (m[0] ?? '').length;
      if (len === 0) {
        re.lastIndex = m.index + 1;
        continue;
      }
      const start = cs + m.index;
      out.push({ g, start, end: start + len });
      done = start + len;
      // Every match holds a prefilter hit; past the last hit's end no further match can start.
      if (done >= lastHitEnd) return;
    }
    if (wEnd >= to) break;
    wStart = Math.max(cs + tailStart, done);
  }
}

const byStart = (x: readonly [number, number], y: readonly [number, number]) => x[0] - y[0];
const byStartThenPattern = (x: Candidate, y: Candidate) => x.start - y.start || x.g - y.g;

/** True when some `also` literal ([start, end], by start) lies wholly inside [ws, we). */
function holdsAlso(also: ReadonlyArray<readonly [number, number]>, ws: number, we: number): boolean {
  let lo = 0;
  let hi = also.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (also[mid]![0] < ws) lo = mid + 1;
    else hi = mid;
  }
  // Ends are not sorted by start, but literals are short: only the last few starting in the window can overrun it.
  for (let k = lo; k < also.length && also[k]![0] < we; k++) if (also[k]![1] <= we) return true;
  return false;
}

/**
 * The windows RE2 must read for pattern `c`, as flat triples (start, end, end of the last hit inside):
 * each hit widened by `before`/`after` (one spare char each side) and `left`/`right`, dropped when it
 * lacks an `also` literal, and merged with its neighbours.
 */
function windowsOf(c: Compiled, hits: ReadonlyArray<readonly [number, number]>, also: ReadonlyArray<readonly [number, number]>, text: string): number[] {
  const out: number[] = [];
  let a = -1;
  let b = -1;
  let hitEnd = 0;
  let leftFrom = -1;
  let leftAt = -1;
  let rightFrom = -1;
  let rightAt = -1;
  for (const [p, len] of hits) {
    let ws = Math.max(0, p - c.before - 1);
    let we = Math.min(text.length, p + len + c.after + 1);
    // Widening reuses the last scan where it overlaps (hits come in order), so it stays linear.
    if (c.left !== undefined) {
      let k = ws;
      while (k > 0 && !c.left(text.charCodeAt(k - 1))) {
        if (k === leftFrom) {
          k = leftAt;
          break;
        }
        k--;
      }
      leftFrom = ws;
      leftAt = k;
      ws = k;
    }
    if (c.right !== undefined) {
      const from = we - 1;
      let e = from;
      if (e >= rightFrom && e <= rightAt) e = rightAt;
      else {
        while (e < text.length && !c.right(text.charCodeAt(e))) {
          if (e === rightFrom) {
            e = rightAt;
            break;
          }
          e++;
        }
        rightFrom = from;
        rightAt = e;
      }
      we = Math.min(text.length, e + 1);
    }
    if (c.also.length > 0 && !holdsAlso(also, ws, we)) continue;
    if (a >= 0 && ws <= b) b = Math.max(b, we);
    else {
      if (a >= 0) out.push(a, b, hitEnd);
      a = ws;
      b = we;
      hitEnd = 0;
    }
    hitEnd = Math.max(hitEnd, p + len);
  }
  if (a >= 0) out.push(a, b, hitEnd);
  return out;
}

/** Compiles `defs`, one RE2 program each; throws on a bad pattern (patterns are ours, so that is a bug). */
export function compilePatternSet(defs: readonly PatternDef[], options: PatternSetOptions = {}): PatternSet {
  if (defs.length === 0) throw new Error('a pattern set needs at least one pattern');
  const prefilter = options.prefilter ?? true;
  const compiled: Compiled[] = defs.map((d, index) => {
    let run: Uint8Array | undefined;
    if (d.run !== undefined) {
      run = new Uint8Array(128);
      for (let i = 0; i < d.run.chars.length; i++) run[d.run.chars.charCodeAt(i) & 127] = 1;
      const core = d.run.core ?? d.run.chars;
      for (let i = 0; i < core.length; i++) run[core.charCodeAt(i) & 127] = 2;
    }
    return {
      index,
      id: d.id,
      re: new RE2(`${d.ignoreCase ? '(?i)' : ''}${d.source}`, 'gu'),
      bs: prefilter && options.engine !== 're2' ? compileBitState(`${d.ignoreCase ? '(?i)' : ''}${d.source}`) : undefined,
      anchors: prefilter ? (d.anchors ?? []).map((a) => a.toLowerCase()) : [],
      also: prefilter ? (d.also ?? []).map((a) => a.toLowerCase()) : [],
      run: prefilter ? run : undefined,
      runMin: d.run?.min ?? 1,
      before: d.before ?? 48,
      after: d.after ?? 256,
      left: edge(d.left),
      right: edge(d.right),
    };
  });
  const ids = defs.map((d) => d.id);
  // One literal matcher for every anchor and `also` literal of the set; users[literal] = pattern * 2 + (1 if `also`).
  const literals: string[] = [];
  const users: number[][] = [];
  const literalId = new Map<string, number>();
  const use = (lit: string, user: number) => {
    let id = literalId.get(lit);
    if (id === undefined) {
      id = literals.length;
      literalId.set(lit, id);
      literals.push(lit);
      users.push([]);
    }
    if (!users[id]!.includes(user)) users[id]!.push(user);
  };
  for (const c of compiled) {
    for (const a of c.anchors) use(a, c.index * 2);
    for (const a of c.also) use(a, c.index * 2 + 1);
  }
  const matcher = createLiteralMatcher(literals);

  /** Start offsets (and lengths) of prefilter hits of `c`, ascending; undefined when `c` has no prefilter. */
  /** Runs of `c`'s class holding enough core chars, as [start, length], in order. */
  const runsOf = (c: Compiled, table: Uint8Array, text: string): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < text.length; ) {
      const ch = text.charCodeAt(i);
      if (ch >= 128 || table[ch] === 0) {
        i++;
        continue;
      }
      let j = i;
      let core = 0;
      for (; j < text.length; j++) {
        const k = text.charCodeAt(j);
        if (k >= 128 || table[k] === 0) break;
        if (table[k] === 2) core++;
      }
      if (core >= c.runMin) out.push([i, j - i]);
      i = j;
    }
    return out;
  };

  const matchAll = (text: string, limits: MatchLimits = {}): MatchResult => {
    const window = Math.max(limits.window ?? 1024, 256);
    const maxMatch = Math.min(limits.maxMatch ?? 256, window >> 1);
    const maxMatches = limits.maxMatches ?? 1000;
    const lower = prefilter ? foldAscii(text) : text;
    const cands: Candidate[] = [];
    // Anchor hits as [start, length]; `also` hits as [start, end].
    const anchorHits: Array<Array<[number, number]>> = compiled.map(() => []);
    const alsoHits: Array<Array<[number, number]>> = compiled.map(() => []);
    if (literals.length > 0) {
      matcher.scan(lower, (lit, start) => {
        const len = literals[lit]!.length;
        for (const u of users[lit]!) {
          if (u & 1) alsoHits[u >> 1]!.push([start, start + len]);
          else anchorHits[u >> 1]!.push([start, len]);
        }
      });
    }
    for (const c of compiled) {
      const hits = c.run !== undefined ? runsOf(c, c.run, text) : c.anchors.length > 0 ? anchorHits[c.index]!.sort(byStart) : undefined;
      if (hits === undefined) {
        scanRange(c.re, c.bs, text, 0, text.length, window, maxMatch, cands, c.index, Infinity);
        continue;
      }
      const windows = windowsOf(c, hits, alsoHits[c.index]!.sort(byStart), text);
      for (let w = 0; w < windows.length; w += 3) scanRange(c.re, c.bs, text, windows[w]!, windows[w + 1]!, window, maxMatch, cands, c.index, windows[w + 2]!);
    }
    // Resolve as one alternation would: leftmost, then the earlier pattern; no overlaps.
    cands.sort(byStartThenPattern);
    const matches: PatternMatch[] = [];
    let from = 0;
    for (const m of cands) {
      if (m.start < from) continue;
      matches.push({ id: ids[m.g]!, start: m.start, end: m.end, value: text.slice(m.start, m.end) });
      from = m.end;
      if (matches.length >= maxMatches) return { matches, truncated: true };
    }
    return { matches, truncated: false };
  };

  return {
    ids,
    test: (text) => matchAll(text, { maxMatches: 1 }).matches.length > 0,
    matchAll,
  };
}
