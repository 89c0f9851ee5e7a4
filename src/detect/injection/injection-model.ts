import { compilePatternSet, type PatternMatch, type PatternScratch, type PatternSet } from '../pattern-set.js';
import { createFeatureScratch, extractFeatures, extractFeaturesInto, segmentFeatures, type FeatureScratch, type FeatureVector } from './features.js';

import { INJECTION_RULES } from './injection-rules.js';
import { WardenError } from '../../domain/errors.js';

/** Below this many words, and with no rule hit, the model's evidence is scaled down. */
const SHORT_WORDS = 8;

const isLetter = (c: number) => ((c | 32) >= 97 && (c | 32) <= 122) || (c >= 0xc0 && c < 0x2000 && c !== 0xd7 && c !== 0xf7);
// Prose may wrap a word in quotes and brackets and end it with punctuation; code puts symbols inside.
const LEAD = new Set([34, 39, 40, 91, 0x201c, 0x2018, 0xab, 0xbf, 0xa1]);
const TRAIL = new Set([34, 39, 41, 93, 44, 46, 58, 59, 33, 63, 0x201d, 0x2019, 0xbb, 0x2026]);

/** Whether `text[from, to)` reads as a prose word: letters, inner `'` or `-`, wrapped in prose punctuation. */
function proseWord(text: string, from: number, to: number): boolean {
  while (from < to && LEAD.has(text.charCodeAt(from))) from++;
  while (to > from && TRAIL.has(text.charCodeAt(to - 1))) to--;
  if (from === to) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isLetter(c) && !((c === 39 || c === 45 || c === 0x2019) && i > from && i < to - 1)) return false;
  }
  return true;
}

// Chars that put a token in code rather than prose; `.` and `:` count only inside a token (`db.users`, `8080:80`).
const CODE = new Set([...'={}()<>;[]_/\\|$@#`~^*&+'].map((c) => c.charCodeAt(0)));

/** Whether `text[from, to)` reads as code: a code symbol anywhere, or `.`/`:` between two chars of it. */
function codeToken(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (CODE.has(c) || ((c === 46 || c === 58) && i > from && i < to - 1 && text.charCodeAt(i + 1) > 32)) return true;
  }
  return false;
}

/**
 * Prose words of `text` for the short-text rule, net of code-like tokens and capped at SHORT_WORDS: prose words
 * are whitespace-separated tokens made of letters (with prose punctuation around them), so a command line, a code line or an identifier
 * (`--url=host:3333`, `NODE_ENV=production`, `findOne({`, `user_id`) carries little evidence however long
 * it is; two CJK (or other wide-script) chars count as one, as those scripts put no spaces between words.
 */
export function evidenceWords(text: string): number {
  let n = 0;
  let other = 0;
  let wide = 0;
  let start = -1;
  const end = (at: number) => {
    if (start >= 0) {
      if (proseWord(text, start, at)) n++;
      else if (codeToken(text, start, at)) other++;
    }
    start = -1;
  };
  for (let i = 0; i < text.length && Math.max(0, n - other) + (wide >> 1) < SHORT_WORDS; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32) end(i);
    else if (c >= 0x2e80) {
      end(i);
      wide++;
    } else if (start < 0) start = i;
  }
  end(text.length);
  // Each code-like token offsets a prose word: `const user = await db.users.findOne({ where: { id } });` has
  // five of each, and is code.
  return Math.min(SHORT_WORDS, Math.max(0, n - other) + (wide >> 1));
}

/**
 * A JSON document as the model should read it: the same length (so spans carry over), with everything outside
 * strings, the quotes and escape sequences blanked, keeping keys and values as words. No train row is JSON,
 * while the train rows that only look like it (`{"...`, `PERSONA={...}`) are all jailbreaks, so the model
 * learned JSON punctuation as a jailbreak sign and scored issue lists and package files 0.65-0.85. Returns
 * undefined for text that is not a JSON object or array.
 */
export function proseOfJson(text: string): string | undefined {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  const first = text.charCodeAt(i);
  if (first !== 123 && first !== 91) return undefined;
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let out = '';
  let from = 0; // start of the run of kept chars
  let inString = false;
  const blank = (n: number) => ' '.repeat(n);
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (!inString) {
      if (c === 34) {
        out += blank(k + 1 - from);
        from = k + 1;
        inString = true;
      }
      continue;
    }
    if (c === 92) {
      // `\uXXXX` is six chars, any other escape two; both become blanks.
      const len = text.charCodeAt(k + 1) === 117 ? 6 : 2;
      out += text.slice(from, k) + blank(len);
      k += len - 1;
      from = k + 1;
    } else if (c === 34) {
      out += text.slice(from, k) + ' ';
      from = k + 1;
      inString = false;
    }
  }
  return out + blank(text.length - from);
}

/** At most this many words (no rule hit) and a text is a lone token or two: a field value, an identifier. */
const TOKEN_WORDS = 2;

/**
 * The margin the detector calibrates (the training script calibrates the same one): a text of a few words
 * carries little evidence, so without a rule hit its margin moves from the bias toward the model's margin in proportion to its words
 * (one strong word, like `hello` in `Hello ChatGPT, you are DAN`, must not decide alone). A lone token or
 * two (`text`, `prompt`, `system prompt`, `user_id`, a JSON field value) scores at most the model's bias,
 * the score of a text with no features: no training text is that short, so there the rules decide alone.
 * (Shrinking those toward the bias in proportion to their words held while word features shared one norm
 * with the char grams; on its own norm a word's margin reaches 5 to 11, and `system prompt` crossed the
 * threshold.)
 */
export function shortTextMargin(m: number, bias: number, evidence: number, hasHits: boolean): number {
  if (hasHits || evidence >= SHORT_WORDS) return m;
  if (evidence <= TOKEN_WORDS) return Math.min(m, bias);
  // INVARIANT: a short text moves from the bias (no evidence) toward its margin, never toward margin 0: the Platt
  // offset puts margin 0 at p 0.53, above the threshold, so shrinking toward 0 flagged any short text whose
  // margin was barely positive ("Echo: hello through Warden" as a tool result: 0.55).
  return m > bias ? bias + ((m - bias) * evidence) / SHORT_WORDS : m;
}

/** The shipped weights file (`injection-weights.json`), written by `npm run train:injection`. */
export interface InjectionWeightsFile {
  readonly version: 1;
  readonly bits: number;
  readonly bias: number;
  /** Weights are int16: w = q * scale. */
  readonly scale: number;
  /** Base64 of little-endian pairs (uint32 bucket, int16 weight), buckets ascending. */
  readonly weights: string;
  /** Platt scaling of the raw margin: p = 1 / (1 + exp(-(a * margin + b))). */
  readonly platt: { readonly a: number; readonly b: number };
  /** Calibrated probability at or above which a text counts as an injection (tuned on train folds). */
  readonly threshold: number;
  readonly meta: Readonly<Record<string, unknown>>;
}

/** A loaded model: scores normalized text; pure and reusable. */
export interface InjectionModel {
  readonly threshold: number;
  readonly rules: PatternSet;
  /** Rule hits on `text` (normalized). */
  ruleHits(text: string): PatternMatch[];
  /** Features of `text` given its rule hits; the same function the training script uses. */
  features(text: string, hits: readonly PatternMatch[]): FeatureVector;
  /** Raw margin (log-odds before calibration). */
  margin(v: FeatureVector): number;
  /**
   * Calibrated probability that `text` is an injection, with the rule hits it saw; the features read at most
   * `maxWords` words of it. @default 4000
   */
  score(text: string, maxWords?: number): { p: number; hits: PatternMatch[] };
}

/** Builds the feature vector the model reads; shared by training and inference. Pass a `scratch` when extracting many. */
export function injectionFeatures(text: string, hits: readonly PatternMatch[], scratch?: FeatureScratch, maxWords?: number): FeatureVector {
  return extractFeatures(text, injectionExtras(text, hits), scratch, maxWords);
}

/** The features beyond the text's own words and grams: which rules hit, and the segment features. */
function injectionExtras(text: string, hits: readonly PatternMatch[]): string[] {
  const extras = [...new Set(hits.map((h) => `rule:${h.id}`)), ...segmentFeatures(text)];
  if (hits.length > 0) extras.push('rule:any');
  return extras;
}

/** Decodes the packed weights into a dense Float32Array over `2^bits` buckets. */
function unpack(file: Pick<InjectionWeightsFile, 'bits' | 'scale' | 'weights'>): Float32Array {
  const dense = new Float32Array(1 << file.bits);
  const bin = atob(file.weights);
  for (let i = 0; i + 6 <= bin.length; i += 6) {
    const b = (k: number) => bin.charCodeAt(i + k);
    const idx = (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0;
    let q = b(4) | (b(5) << 8);
    if (q >= 0x8000) q -= 0x10000;
    if (idx < dense.length) dense[idx] = q * file.scale;
  }
  return dense;
}

/** Packs dense weights into the file format (drops weights below `minAbs`); used by the training script. */
export function packWeights(dense: Float32Array, minAbs: number): { scale: number; weights: string; kept: number } {
  let max = 0;
  for (const w of dense) max = Math.max(max, Math.abs(w));
  const scale = max / 32767 || 1;
  let bin = '';
  let kept = 0;
  for (let i = 0; i < dense.length; i++) {
    const w = dense[i]!;
    if (Math.abs(w) < minAbs) continue;
    const q = Math.round(w / scale) & 0xffff;
    bin += String.fromCharCode(i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, (i >>> 24) & 0xff, q & 0xff, q >>> 8);
    kept++;
  }
  return { scale, weights: btoa(bin), kept };
}

/** Loads a weights file into a model. */
export function loadInjectionModel(file: InjectionWeightsFile, scratch: { patterns?: PatternScratch; features?: FeatureScratch } = {}): InjectionModel {
  // A non-finite constant would make every score NaN, and NaN compares false with every threshold:
  // the detector would pass everything. Refuse such a file at load instead.
  for (const [name, v] of [['bias', file.bias], ['scale', file.scale], ['platt.a', file.platt?.a], ['platt.b', file.platt?.b], ['threshold', file.threshold]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new WardenError('config.invalid', `the injection model's weights have a ${name} that is not a finite number (${String(v)})`, { help: 'use the weights file shipped with Warden, or retrain with scripts/train-injection.ts' });
  }
  const dense = unpack(file);
  const rules = compilePatternSet(INJECTION_RULES, { scratch: scratch.patterns });
  const features = scratch.features ?? createFeatureScratch();
  // Most buckets a text touches carry no weight (a quarter of them has one): a 32 KB bitmap of those that
  // do spares reading the 1 MB of weights for the rest, and adding 0 leaves the sum as it was.
  const weighted = new Int32Array((dense.length + 31) >>> 5);
  for (let k = 0; k < dense.length; k++) if (dense[k] !== 0) weighted[k >>> 5]! |= 1 << (k & 31);
  const marginOf = (index: Int32Array, value: Float32Array, n: number) => {
    let m = file.bias;
    for (let i = 0; i < n; i++) {
      const k = index[i]!;
      if (((weighted[k >>> 5] ?? 0) >>> (k & 31)) & 1) m += dense[k]! * value[i]!;
    }
    return m;
  };
  const margin = (v: FeatureVector) => marginOf(v.index, v.value, v.index.length);
  const calibrate = (m: number) => 1 / (1 + Math.exp(-(file.platt.a * m + file.platt.b)));
  // Every hit: a strong rule's span past the 200th weak hit must still be reported (and redactable); features dedupe by rule.
  const ruleHits = (text: string) => rules.matchAll(text).matches;
  return {
    threshold: file.threshold,
    rules,
    ruleHits,
    features: (text, hits) => injectionFeatures(text, hits, features),
    margin,
    score(raw, maxWords) {
      const text = proseOfJson(raw) ?? raw;
      const hits = ruleHits(text);
      // The vector is read once, where extraction left it (its arrays may have grown, so they are read after
      // it): the same sum over the same entries as `margin`.
      const n = extractFeaturesInto(text, injectionExtras(text, hits), features, maxWords);
      const m = marginOf(features.outIndex, features.outValue, n);
      // One strong word (like `hello` in `Hello ChatGPT, you are DAN`, or a lone `prompt`) must not decide alone.
      const words = hits.length > 0 ? SHORT_WORDS : evidenceWords(text);
      return { p: calibrate(shortTextMargin(m, file.bias, words, hits.length > 0)), hits };
    },
  };
}
