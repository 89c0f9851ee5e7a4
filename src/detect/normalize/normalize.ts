import type { SmugglingKind, SmugglingMark, TextView } from '../detector.js';
import { HOMOGLYPHS, isConfusableScript } from './homoglyphs.js';
import { identityView, mappedView } from './text-view.js';

/** The normalized view plus the tricks it undid. */
export interface Normalized {
  readonly view: TextView;
  readonly marks: readonly SmugglingMark[];
}

const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x180e, 0x00ad, 0x034f, 0x115f, 0x1160, 0x3164, 0xffa0, 0x17b4, 0x17b5]);
const isBidi = (cp: number) => (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
const isQuietBidi = (cp: number) => cp === 0x200e || cp === 0x200f || cp === 0x061c;
const isTag = (cp: number) => cp >= 0xe0000 && cp <= 0xe007f;
const isVariation = (cp: number) => (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);
const isAsciiLetter = (cp: number) => (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
const isCombining = (cp: number) => (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x20d0 && cp <= 0x20ff);
const BLACK_FLAG = 0x1f3f4;
const LETTER = /^\p{L}$/u;

/**
 * Folded forms by code point. Folding one code point is pure, so it is cached by whoever normalizes many
 * texts (a detector set); the cache holds at most 65536 entries.
 */
export type FoldCache = Map<number, string>;

/** Whether a code point is a letter (`\p{L}`), by code point; at most 65536 entries, like FoldCache. */
export type LetterCache = Map<number, boolean>;

function fold(cp: number, foldCache: FoldCache): string {
  const hit = foldCache.get(cp);
  if (hit !== undefined) return hit;
  const h = HOMOGLYPHS.get(cp);
  let out: string;
  if (h !== undefined) out = h;
  else {
    let s = '';
    for (const ch of String.fromCodePoint(cp).normalize('NFKD')) {
      const c = ch.codePointAt(0)!;
      if (isCombining(c)) continue;
      s += HOMOGLYPHS.get(c) ?? ch;
    }
    out = s.normalize('NFC');
  }
  if (foldCache.size < 65536) foldCache.set(cp, out);
  return out;
}

/**
 * Normalizes text for matching: decodes Unicode tag characters in place, drops zero-width, bidi and
 * variation-selector characters, folds compatibility forms, accents and homoglyphs to ASCII, and
 * undoes letter spacing (`i g n o r e`) and leetspeak (`1gn0r3`). Runs in one linear pass plus two
 * linear post-passes; every output char keeps the raw offset it came from. `foldCache` keeps folded code
 * points across calls, `letterCache` whether a code point is a letter (@default caches for this call only).
 */
export function normalize(raw: string, foldCache: FoldCache = new Map(), letterCache: LetterCache = new Map()): Normalized {
  // Plain ASCII has no Unicode tricks to undo: only spacing and leetspeak, each checked cheaply first.
  if (!NOT_PLAIN_ASCII.test(raw)) return normalizeAscii(raw);
  // The folded text, built from slices of ASCII runs and folded chars, and the raw offset of each of its chars.
  let out = '';
  let map = new Int32Array(raw.length + 64);
  let n = 0;
  const room = (k: number) => {
    if (n + k < map.length) return;
    const grown = new Int32Array(Math.max(map.length * 2, n + k + 1));
    grown.set(map.subarray(0, n));
    map = grown;
  };
  const marks: SmugglingMark[] = [];
  let run: { kind: SmugglingKind; start: number; end: number; count: number; hidden: string } | undefined;
  const flush = () => {
    if (run === undefined) return;
    const { kind, start, end, count, hidden } = run;
    marks.push(kind === 'unicode_tags' ? { kind, start, end, count, hidden } : { kind, start, end, count });
    run = undefined;
  };
  const mark = (kind: SmugglingKind, start: number, end: number, hidden = '') => {
    if (run !== undefined && run.kind === kind && start - run.end <= 64) {
      run.end = end;
      run.count++;
      run.hidden += hidden;
      return;
    }
    flush();
    run = { kind, start, end, count: 1, hidden };
  };
  let prevCp = 0;
  let afterFlag = false;
  // Homoglyph tracking per word: does it mix ASCII letters with confusable-script letters?
  let wordStart = -1;
  let wordAscii = false;
  let wordConfusable = 0;
  const endWord = (rawEnd: number) => {
    if (wordStart >= 0 && wordAscii && wordConfusable > 0) marks.push({ kind: 'homoglyphs', start: wordStart, end: rawEnd, count: wordConfusable });
    wordStart = -1;
    wordAscii = false;
    wordConfusable = 0;
  };
  for (let i = 0; i < raw.length; ) {
    if (raw.charCodeAt(i) < 0x80) {
      // A run of ASCII is kept as it is: each char maps to itself, a letter extends the word, anything else ends it.
      const from = i;
      room(raw.length - i);
      for (; i < raw.length; i++) {
        const c = raw.charCodeAt(i);
        if (c >= 0x80) break;
        map[n++] = i;
        if (isAsciiLetter(c)) {
          if (wordStart < 0) wordStart = i;
          wordAscii = true;
        } else if (wordStart >= 0) endWord(i);
      }
      out += raw.slice(from, i);
      prevCp = raw.charCodeAt(i - 1);
      afterFlag = false;
      continue;
    }
    const cp = raw.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    if (isTag(cp)) {
      // Tag sequences after a black flag spell subdivision flags (🏴 England); anything else is hidden text.
      if (!afterFlag) {
        const ch = cp >= 0xe0020 && cp <= 0xe007e ? String.fromCharCode(cp - 0xe0000) : '';
        mark('unicode_tags', i, i + w, ch);
        if (ch !== '') {
          room(1);
          out += ch;
          map[n++] = i;
        }
      }
    } else if (ZERO_WIDTH.has(cp)) {
      const next = raw.codePointAt(i + w) ?? 0;
      // ZWJ/ZWNJ between non-ASCII letters is ordinary (emoji sequences, Persian, Indic); between ASCII letters it hides words.
      if (isAsciiLetter(prevCp) || isAsciiLetter(next) || cp === 0x200b || cp === 0x2060 || cp === 0xfeff) {
        if (!(cp === 0xfeff && i === 0)) mark('zero_width', i, i + w);
      }
    } else if (isBidi(cp)) {
      mark('bidi_control', i, i + w);
    } else if (isQuietBidi(cp)) {
      // Marks used in ordinary right-to-left text: dropped, not reported.
    } else if (isVariation(cp)) {
      if (cp >= 0xe0100) mark('variation_selectors', i, i + w);
    } else {
      const f = fold(cp, foldCache);
      if (isConfusableScript(cp) && f.length > 0 && isAsciiLetter(f.codePointAt(0)!)) {
        if (wordStart < 0) wordStart = i;
        wordConfusable++;
      }
      room(f.length);
      for (let k = 0; k < f.length; k++) map[n++] = i;
      out += f;
    }
    // A non-ASCII letter, or a char dropped above, leaves the word open; anything else ends it.
    if (!isLetterCp(cp, letterCache) && !ZERO_WIDTH.has(cp) && !isTag(cp) && !isBidi(cp)) endWord(i);
    afterFlag = cp === BLACK_FLAG || (afterFlag && isTag(cp));
    prevCp = cp;
    i += w;
  }
  endWord(raw.length);
  flush();
  room(1);
  map[n++] = raw.length;
  // Most texts have no spaced-out letters: then `unspace` would hand back the same chars and offsets.
  if (!maySpace(out)) return { view: mappedView('normalized', unleet(out), map.slice(0, n)), marks: marks.sort((a, b) => a.start - b.start) };
  const spaced = unspace(out.split(''), Array.from(map.subarray(0, n)));
  if (spaced.mark !== undefined) marks.push(spaced.mark);
  return { view: mappedView('normalized', unleet(spaced.chars.join('')), Int32Array.from(spaced.map)), marks: marks.sort((a, b) => a.start - b.start) };
}

/** Whether a code point (0x80 or above) is a letter, by `\p{L}`; cached, as `fold` is, by whoever normalizes many texts. */
function isLetterCp(cp: number, letterCache: LetterCache): boolean {
  let hit = letterCache.get(cp);
  if (hit === undefined) {
    hit = LETTER.test(String.fromCodePoint(cp));
    if (letterCache.size < 65536) letterCache.set(cp, hit);
  }
  return hit;
}

// Printable ASCII, tab and newlines; anything else (controls included) takes the full path.
const NOT_PLAIN_ASCII = /[^ -~\t\n\r]/;

/** `normalize` for ASCII input: the identity unless spacing or leetspeak is present. */
function normalizeAscii(raw: string): Normalized {
  if (!maySpace(raw)) return { view: identityView(unleet(raw)), marks: [] };
  const map: number[] = new Array<number>(raw.length + 1);
  for (let i = 0; i <= raw.length; i++) map[i] = i;
  const spaced = unspace(raw.split(''), map);
  return { view: mappedView('normalized', unleet(spaced.chars.join('')), Int32Array.from(spaced.map)), marks: spaced.mark ? [spaced.mark] : [] };
}

const isWordCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
const SPACER_CODES = new Set([...' .-_*|/+'].map((c) => c.charCodeAt(0)));

/** True when `s` has a run of at least 5 single word chars split by one spacer: exactly what `unspace` joins. */
function maySpace(s: string): boolean {
  const word = (k: number) => k >= 0 && k < s.length && isWordCode(s.charCodeAt(k));
  // `before`: whether s[i - 1] is a word char, carried along so most chars are read once.
  let before = false;
  for (let i = 0; i < s.length; i++) {
    const here = isWordCode(s.charCodeAt(i));
    if (!here || before || word(i + 1)) {
      before = here;
      continue;
    }
    const sep = s.charCodeAt(i + 1);
    const spacer = SPACER_CODES.has(sep);
    let pos = i;
    let letters = 0;
    while (word(pos) && !word(pos + 1)) {
      letters++;
      if (spacer && s.charCodeAt(pos + 1) === sep && word(pos + 2) && !word(pos + 3)) pos += 2;
      else if (spacer && s.charCodeAt(pos + 1) === sep && s.charCodeAt(pos + 2) === sep && word(pos + 3) && !word(pos + 4)) pos += 3;
      else break;
    }
    if (letters >= 5) return true;
    i = Math.max(i, pos - 1);
    before = word(i);
  }
  return false;
}

const isWordChar = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
const SPACERS = new Set([' ', '.', '-', '_', '*', '|', '/', '+']);

/** Joins runs of at least 5 single letters split by one spacer (`i g n o r e`, `i.g.n.o.r.e`); a doubled spacer is a word break. */
function unspace(chars: string[], map: number[]): { chars: string[]; map: number[]; mark?: SmugglingMark } {
  const outC: string[] = [];
  const outM: number[] = [];
  let first: number | undefined;
  let last = 0;
  let total = 0;
  const word = (k: number) => k < chars.length && isWordChar(chars[k]!);
  let i = 0;
  while (i < chars.length) {
    let end = i;
    let letters = 0;
    if (word(i) && !word(i - 1) && !word(i + 1)) {
      const sep = chars[i + 1];
      let pos = i;
      while (word(pos) && !word(pos + 1)) {
        letters++;
        end = pos + 1;
        if (sep !== undefined && SPACERS.has(sep) && chars[pos + 1] === sep && word(pos + 2) && !word(pos + 3)) pos += 2;
        else if (sep !== undefined && SPACERS.has(sep) && chars[pos + 1] === sep && chars[pos + 2] === sep && word(pos + 3) && !word(pos + 4)) pos += 3;
        else break;
      }
    }
    if (letters >= 5) {
      for (let k = i; k < end; k++) {
        const c = chars[k]!;
        if (!SPACERS.has(c)) {
          outC.push(c);
          outM.push(map[k]!);
        } else if (chars[k + 1] === c) {
          outC.push(' ');
          outM.push(map[k]!);
          k++;
        }
      }
      first ??= map[i]!;
      last = map[end]!;
      total += letters;
      i = end;
      continue;
    }
    outC.push(chars[i]!);
    outM.push(map[i]!);
    i++;
  }
  outM.push(map[map.length - 1]!);
  const mark = first !== undefined ? { kind: 'char_spacing' as const, start: first, end: last, count: total } : undefined;
  return mark ? { chars: outC, map: outM, mark } : { chars: outC, map: outM };
}

const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };
const LEET_CODES = new Uint8Array(128);
for (const c of Object.keys(LEET)) LEET_CODES[c.charCodeAt(0)] = 1;
const isLetterCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/**
 * Folds leetspeak inside words that mix letters with look-alike digits (`1gn0r3` → `ignore`); same length.
 * Returns `s` itself when no word folds, which is the common case. A word folds when it is mostly letters with
 * a few look-alikes (`x86`, `2024`, `sha256`, `mp3` stay as they are). Once two words of a text fold, the text is
 * written in leetspeak, and any word of 3+ chars with a letter folds too (`1n57ruc710n5`, `4r3`), so a fully
 * substituted attack reads as one.
 */
function unleet(s: string): string {
  const n = s.length;
  // Word spans to fold, in order: [start, end) pairs; `maybe` holds the words that fold only in a leetspeak text.
  let folds: number[] | undefined;
  let maybe: number[] | undefined;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (!isWordCode(c) && c !== 64 /* @ */ && c !== 36 /* $ */) {
      i++;
      continue;
    }
    let j = i;
    let letters = 0;
    let leet = 0;
    let other = 0;
    for (; j < n; j++) {
      const d = s.charCodeAt(j);
      if (!(isWordCode(d) || d === 64 || d === 36 || (d === 33 /* ! */ && j + 1 < n && isWordCode(s.charCodeAt(j + 1))))) break;
      if (LEET_CODES[d] === 1) leet++;
      else if (isLetterCode(d)) letters++;
      else other++;
    }
    if (leet >= 1 && other === 0) {
      if (letters >= 2 && leet <= letters + 1) (folds ??= []).push(i, j);
      else if (letters >= 1 && j - i >= 3) (maybe ??= []).push(i, j);
    }
    i = Math.max(j, i + 1);
  }
  if (folds === undefined) return s;
  // Two folded words make a leetspeak text: then the mostly-digit words fold too.
  const spans = folds.length >= 4 && maybe !== undefined ? mergeSpans(folds, maybe) : folds;
  let out = '';
  let copied = 0; // s[0, copied) is already in `out`
  for (let k = 0; k < spans.length; k += 2) {
    const from = spans[k]!;
    const to = spans[k + 1]!;
    out += s.slice(copied, from);
    for (let x = from; x < to; x++) out += LEET[s[x]!] ?? s[x]!;
    copied = to;
  }
  return out + s.slice(copied);
}

/** Two ordered lists of disjoint [start, end) pairs as one ordered list. */
function mergeSpans(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let x = 0;
  let y = 0;
  while (x < a.length || y < b.length) {
    if (y >= b.length || (x < a.length && a[x]! < b[y]!)) {
      out.push(a[x]!, a[x + 1]!);
      x += 2;
    } else {
      out.push(b[y]!, b[y + 1]!);
      y += 2;
    }
  }
  return out;
}
