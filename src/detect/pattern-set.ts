import { RE2 } from 're2-wasm';
import { compileBitState, createBitStateScratch, type BitStateProgram, type BitStateScratch } from './bitstate.js';
import { createIntList, pushInt, pushPair, type IntList } from './int-list.js';
import { createLiteralMatcher, type LiteralMatcher } from './literal-matcher.js';

const SURROGATE = /[\uD800-\uDFFF]/g;

/**
 * One named pattern in RE2 syntax; it must not contain capturing groups (use `(?:…)`).
 *
 * A pattern may name a prefilter: `anchors` (literals) or `run` (a run of chars), one of which every
 * match contains. The matcher then runs only on small windows around prefilter hits instead of the whole
 * text, and tries only the start offsets a match holding a hit can have (from `before` ahead of it up to
 * the hit), so these bounds must be true of every match: pattern-set.test.ts checks them against a full
 * scan. A pattern with neither is matched over the whole text.
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
  /** Most chars a match can start before that token or line edge (`(?m)^\s{0,3}` crosses up to 3 newlines). @default 0 */
  readonly lead?: number;
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
   * Window size in chars: no matcher call reads more than one window (re2-wasm copies its input into
   * wasm on every `exec`, and BitState's visited marks grow with it), so a call costs O(window), not O(n).
   * @default 1024
   */
  window?: number;
  /** Longest match a pattern can produce; windows overlap by this much. @default 256 */
  maxMatch?: number;
  /**
   * Matches kept per call; past it `truncated` is set and the rest are dropped. Detectors keep the default:
   * a finding they never see is a span redaction never masks. Matches never overlap, so there are at most as
   * many as chars. @default Infinity
   */
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
 * INVARIANT: every pattern used on untrusted text in src/detect goes through a linear-time matcher (the
 * BitState program of bitstate.ts, or RE2 where its syntax is not covered), or is a JS RegExp made of a
 * single character class with at most one quantifier (linear by construction). Prefilters are one
 * Aho–Corasick pass per text shared by the sets of one `PatternScratch` (literal-matcher.ts) and single-pass char scans; a
 * pattern's windows are merged so they never overlap, and each window is read in bounded chunks with one
 * matcher call per chunk and match, so the work per pattern stays linear in the text. pattern-set.test.ts
 * checks the prefiltered matches against a full scan with RE2.
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
  /** Scratch shared with the other sets of the same owner. @default a scratch of this set's own */
  scratch?: PatternScratch;
}

interface Compiled {
  readonly index: number;
  readonly id: string;
  /** The RE2 program, compiled on first use: re2-wasm never frees one, and bitstate.ts serves most patterns. */
  readonly re: () => RE2;
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
  readonly lead: number;
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

/**
 * What the pattern sets of one owner (a detector set) share: one literal matcher over the literals of all
 * its sets compiled so far, and the last text's fold and literal hits, since the sets of a detector set
 * read the same view in a row (a view is folded and scanned for literals once, not once per set); and the
 * BitState programs' visited stamps. Calls through one scratch never re-enter each other.
 */
export interface PatternScratch {
  readonly literals: string[];
  readonly ids: Map<string, number>;
  /** Rebuilt on first use after a set adds literals. */
  matcher: LiteralMatcher | undefined;
  text: string;
  lower: string;
  /** (literal, start) pairs of `lower`, from the current matcher. */
  readonly hits: IntList;
  readonly bitState: BitStateScratch;
}

/** An empty scratch for the pattern sets of one owner. */
export function createPatternScratch(): PatternScratch {
  return { literals: [], ids: new Map(), matcher: undefined, text: '', lower: '', hits: createIntList(256), bitState: createBitStateScratch() };
}

/** The shared id of `literal`, registering it (and dropping the matcher) when it is new. */
function sharedLiteral(shared: PatternScratch, literal: string): number {
  let id = shared.ids.get(literal);
  if (id === undefined) {
    id = shared.literals.push(literal) - 1;
    shared.ids.set(literal, id);
    shared.matcher = undefined;
  }
  return id;
}

/** ASCII-only lower case of `text` (same length, so offsets carry over) and its shared literal hits. */
function literalHits(shared: PatternScratch, text: string): IntList {
  if (shared.matcher !== undefined && text === shared.text) return shared.hits;
  if (text !== shared.text) {
    shared.text = text;
    shared.lower = foldUncached(text);
  }
  shared.matcher ??= createLiteralMatcher(shared.literals);
  shared.hits.length = 0;
  shared.matcher.scan(shared.lower, shared.hits);
  return shared.hits;
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
function scanRe2(re: RE2, text: string, from: number, to: number, window: number, maxMatch: number, out: Candidate[], g: number, lastHitEnd: number): void {
  let done = from; // first offset not yet covered by a reported match or a finished window
  for (let wStart = from; wStart < to || wStart === from; ) {
    const wEnd = Math.min(to, wStart + window);
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

/**
 * `scanRe2` with bitstate.ts, in the same windows and with the same left context, and trying only the
 * start offsets in `starts[si, se)` (inclusive [lo, hi] pairs, ascending): a match holds a prefilter hit,
 * so it cannot start past its hit, nor further before it than the pattern's reach.
 */
function scanBitState(bs: BitStateProgram, text: string, from: number, to: number, window: number, maxMatch: number, out: Candidate[], g: number, lastHitEnd: number, starts: Int32Array, si: number, se: number): void {
  let done = from;
  let k = si;
  for (let wStart = from; wStart < to || wStart === from; ) {
    const wEnd = Math.min(to, wStart + window);
    const cs = wStart > 0 ? wStart - 1 : 0;
    // A match that starts in the overlap tail is left to the next window, which sees it whole.
    const lastStart = (wEnd < to ? wEnd - maxMatch : wEnd) - 1;
    let at = Math.max(done, wStart);
    for (;;) {
      while (k < se && starts[k + 1]! < at) k += 2;
      if (k >= se) return;
      if (Math.max(at, starts[k]!) > lastStart) break;
      const m = bs.exec(text, cs, wEnd, at, lastStart, starts, k, se);
      if (m === null) break;
      if (m.end === m.index) {
        at = m.index + 1;
        continue;
      }
      out.push({ g, start: m.index, end: m.end });
      done = at = m.end;
      if (done >= lastHitEnd) return;
    }
    if (wEnd >= to) break;
    wStart = Math.max(lastStart + 1, done);
  }
}

const byStartThenPattern = (x: Candidate, y: Candidate) => x.start - y.start || x.g - y.g;

/** Sorts flat (start, x) pairs by start; the literal matcher reports them by end, so most are in order already. */
function sortPairs(list: IntList): void {
  const a = list.values;
  let sorted = true;
  for (let i = 2; i < list.length && sorted; i += 2) if (a[i]! < a[i - 2]!) sorted = false;
  if (sorted) return;
  const idx = Array.from({ length: list.length >> 1 }, (_, i) => i);
  idx.sort((x, y) => a[2 * x]! - a[2 * y]! || x - y);
  const copy = a.slice(0, list.length);
  idx.forEach((from, to) => {
    a[2 * to] = copy[2 * from]!;
    a[2 * to + 1] = copy[2 * from + 1]!;
  });
}

/** True when some `also` literal (flat start, end pairs, by start) lies wholly inside [ws, we). */
function holdsAlso(list: IntList, ws: number, we: number): boolean {
  const also = list.values;
  let lo = 0;
  let hi = list.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (also[2 * mid]! < ws) lo = mid + 1;
    else hi = mid;
  }
  // Ends are not sorted by start, but literals are short: only the last few starting in the window can overrun it.
  for (let k = 2 * lo; k < list.length && also[k]! < we; k += 2) if (also[k + 1]! <= we) return true;
  return false;
}

/**
 * The windows the matcher must read for pattern `c`, appended to `win` as flat quintuples (start, end,
 * end of the last hit inside, first and end index of its start intervals in `starts`): each hit (flat
 * start, length pairs) widened by `before`/`after` (one spare char each side) and `left`/`right`, dropped
 * when it lacks an `also` literal, and merged with its neighbours. A match can start from its hit's
 * widened left edge up to the hit itself (an anchor lies inside the match; a run holds its start).
 */
function windowsOf(c: Compiled, hitList: IntList, also: IntList, text: string, win: IntList, starts: IntList): void {
  const hits = hitList.values;
  let a = -1;
  let b = -1;
  let hitEnd = 0;
  let firstStart = 0;
  let leftFrom = -1;
  let leftAt = -1;
  let rightFrom = -1;
  let rightAt = -1;
  for (let h = 0; h < hitList.length; h += 2) {
    const p = hits[h]!;
    const len = hits[h + 1]!;
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
      ws = Math.max(0, k - c.lead);
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
      if (a >= 0) pushWindow(win, a, b, hitEnd, firstStart, starts.length);
      a = ws;
      b = we;
      hitEnd = 0;
      firstStart = starts.length;
    }
    hitEnd = Math.max(hitEnd, p + len);
    // Left edges only grow from hit to hit (widening is monotone), so the intervals stay sorted.
    const last = c.run !== undefined ? p + len - 1 : p;
    if (starts.length > firstStart && ws <= starts.values[starts.length - 1]! + 1) starts.values[starts.length - 1] = Math.max(starts.values[starts.length - 1]!, last);
    else pushPair(starts, ws, last);
  }
  if (a >= 0) pushWindow(win, a, b, hitEnd, firstStart, starts.length);
}

function pushWindow(win: IntList, start: number, end: number, hitEnd: number, firstStart: number, startsEnd: number): void {
  pushPair(win, start, end);
  pushPair(win, hitEnd, firstStart);
  pushInt(win, startsEnd);
}

/** Compiles `defs`: a BitState program each where bitstate.ts covers the syntax, else RE2; throws on a bad pattern (patterns are ours, so that is a bug). */
export function compilePatternSet(defs: readonly PatternDef[], options: PatternSetOptions = {}): PatternSet {
  if (defs.length === 0) throw new Error('a pattern set needs at least one pattern');
  const prefilter = options.prefilter ?? true;
  const shared = options.scratch ?? createPatternScratch();
  const compiled: Compiled[] = defs.map((d, index) => {
    let run: Uint8Array | undefined;
    if (d.run !== undefined) {
      run = new Uint8Array(128);
      for (let i = 0; i < d.run.chars.length; i++) run[d.run.chars.charCodeAt(i) & 127] = 1;
      const core = d.run.core ?? d.run.chars;
      for (let i = 0; i < core.length; i++) run[core.charCodeAt(i) & 127] = 2;
    }
    const source = `${d.ignoreCase ? '(?i)' : ''}${d.source}`;
    const bs = prefilter && options.engine !== 're2' ? compileBitState(source, shared.bitState) : undefined;
    // Without a BitState program RE2 is compiled now, so a bad pattern throws here.
    let re = bs === undefined ? new RE2(source, 'gu') : undefined;
    return {
      index,
      id: d.id,
      re: () => (re ??= new RE2(source, 'gu')),
      bs,
      anchors: prefilter ? (d.anchors ?? []).map((a) => a.toLowerCase()) : [],
      also: prefilter ? (d.also ?? []).map((a) => a.toLowerCase()) : [],
      run: prefilter ? run : undefined,
      runMin: d.run?.min ?? 1,
      before: d.before ?? 48,
      after: d.after ?? 256,
      left: edge(d.left),
      lead: d.lead ?? 0,
      right: edge(d.right),
    };
  });
  const ids = defs.map((d) => d.id);
  // The set's anchor and `also` literals, by shared id: users[id] = pattern * 2 + (1 if `also`).
  const users: number[][] = [];
  let hasLiterals = false;
  const use = (lit: string, user: number) => {
    const id = sharedLiteral(shared, lit);
    users[id] ??= [];
    if (!users[id].includes(user)) users[id].push(user);
    hasLiterals = true;
  };
  for (const c of compiled) {
    for (const a of c.anchors) use(a, c.index * 2);
    for (const a of c.also) use(a, c.index * 2 + 1);
  }

  // Hits per pattern, refilled by every call (a call never re-enters the set): flat (start, length) pairs
  // for anchors and runs, and (start, end) pairs for `also` literals.
  const anchorHits: IntList[] = compiled.map(() => createIntList(16));
  const alsoHits: IntList[] = compiled.map(() => createIntList(16));
  const starts = createIntList(64);
  const win = createIntList(64);
  const whole = new Int32Array(2);

  // Run prefilters. A run pattern with a small `min` is seeded by core chars: one pass looks only for
  // chars in some such pattern's core (most text holds none); at a core char not inside a run already
  // read, that pattern's maximal run around it is read and its core chars counted. A pattern with a
  // large `min` (token-shaped runs, where most chars are core) skips instead: a qualifying run spans
  // `min` chars, so when the char `min - 1` ahead is outside the class, none starts before it. Runs of
  // one pattern are disjoint and each char is read a bounded number of times, so the work stays linear.
  const runPatterns = compiled.filter((c) => c.run !== undefined);
  if (runPatterns.some((c) => c.runMin < 1)) throw new Error('a run prefilter needs `min` >= 1');
  const seeded = runPatterns.filter((c) => c.runMin < 16);
  const skipping = runPatterns.filter((c) => c.runMin >= 16);
  if (seeded.length > 31) throw new Error('a pattern set holds at most 31 run prefilters with `min` < 16');
  const coreBits = new Int32Array(128);
  seeded.forEach((c, r) => {
    for (let ch = 0; ch < 128; ch++) if (c.run![ch] === 2) coreBits[ch]! |= 1 << r;
  });
  const readUntil = new Int32Array(seeded.length);
  /** Pushes the maximal run of `c` around `at` (`from` <= start; char `from - 1` is outside the class) when it holds enough core chars; returns its end. */
  const runAround = (c: Compiled, text: string, from: number, at: number): number => {
    const table = c.run!;
    let start = at;
    while (start > from) {
      const k = text.charCodeAt(start - 1);
      if (k >= 128 || table[k] === 0) break;
      start--;
    }
    let end = at + 1;
    for (; end < text.length; end++) {
      const k = text.charCodeAt(end);
      if (k >= 128 || table[k] === 0) break;
    }
    if (end - start >= c.runMin) {
      let core = 0;
      for (let i = start; i < end && core < c.runMin; i++) if (table[text.charCodeAt(i)] === 2) core++;
      if (core >= c.runMin) pushPair(anchorHits[c.index]!, start, end - start);
    }
    return end;
  };
  /** Maximal runs of each run pattern's class holding enough core chars, as flat (start, length) pairs in `anchorHits`. */
  const runsOf = (text: string): void => {
    const n = text.length;
    if (seeded.length > 0) {
      readUntil.fill(0);
      for (let i = 0; i < n; i++) {
        const ch = text.charCodeAt(i);
        const bits = ch < 128 ? coreBits[ch]! : 0;
        if (bits === 0) continue;
        for (let x = bits; x !== 0; x &= x - 1) {
          const r = 31 - Math.clz32(x & -x);
          if (i >= readUntil[r]!) readUntil[r] = runAround(seeded[r]!, text, readUntil[r]!, i);
        }
      }
    }
    for (const c of skipping) {
      const table = c.run!;
      for (let p = 0; p + c.runMin <= n; ) {
        const q = p + c.runMin - 1;
        const k = text.charCodeAt(q);
        if (k >= 128 || table[k] === 0) p = q + 1;
        else p = runAround(c, text, p, q) + 1;
      }
    }
  };

  const matchAll = (text: string, limits: MatchLimits = {}): MatchResult => {
    const window = Math.max(limits.window ?? 1024, 256);
    const maxMatch = Math.min(limits.maxMatch ?? 256, window >> 1);
    const maxMatches = limits.maxMatches ?? Infinity;
    const cands: Candidate[] = [];
    for (let g = 0; g < compiled.length; g++) anchorHits[g]!.length = alsoHits[g]!.length = 0;
    if (hasLiterals) {
      const list = literalHits(shared, text);
      const hits = list.values;
      for (let h = 0; h < list.length; h += 2) {
        const lit = hits[h]!;
        const u = users[lit];
        if (u === undefined) continue;
        const start = hits[h + 1]!;
        const len = shared.literals[lit]!.length;
        for (let k = 0; k < u.length; k++) {
          const x = u[k]!;
          if (x & 1) pushPair(alsoHits[x >> 1]!, start, start + len);
          else pushPair(anchorHits[x >> 1]!, start, len);
        }
      }
    }
    if (runPatterns.length > 0) {
      runsOf(text);
    }
    for (const c of compiled) {
      let hits: IntList | undefined;
      if (c.run !== undefined) hits = anchorHits[c.index]!;
      else if (c.anchors.length > 0) {
        hits = anchorHits[c.index]!;
        sortPairs(hits);
      }
      if (hits === undefined) {
        // INVARIANT: offsets fit in int32 (texts are far shorter than 2^31 chars), here and in every IntList.
        whole[1] = text.length;
        if (c.bs !== undefined) scanBitState(c.bs, text, 0, text.length, window, maxMatch, cands, c.index, Infinity, whole, 0, 2);
        else scanRe2(c.re(), text, 0, text.length, window, maxMatch, cands, c.index, Infinity);
        continue;
      }
      if (hits.length === 0) continue;
      const also = alsoHits[c.index]!;
      sortPairs(also);
      win.length = starts.length = 0;
      windowsOf(c, hits, also, text, win, starts);
      const ws = win.values;
      for (let w = 0; w < win.length; w += 5) {
        if (c.bs !== undefined) scanBitState(c.bs, text, ws[w]!, ws[w + 1]!, window, maxMatch, cands, c.index, ws[w + 2]!, starts.values, ws[w + 3]!, ws[w + 4]!);
        else scanRe2(c.re(), text, ws[w]!, ws[w + 1]!, window, maxMatch, cands, c.index, ws[w + 2]!);
      }
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
