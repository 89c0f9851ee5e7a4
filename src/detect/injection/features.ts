/** Hashing space of the injection model: 2^18 buckets. */
export const FEATURE_BITS = 18;
const MASK = (1 << FEATURE_BITS) - 1;

/** FNV-1a over a string's UTF-16 units, folded into the feature space. */
export function hashFeature(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & MASK;
}

/** A sparse feature vector: bucket indices and values (L2-normalized text part, then extra features). */
export interface FeatureVector {
  readonly index: Int32Array;
  readonly value: Float32Array;
}

/** Words of at most 24 chars in lower case, letters, digits and apostrophes; at most `maxWords`. */
export function words(text: string, maxWords = 4000): string[] {
  const out: string[] = [];
  let w = '';
  for (let i = 0; i <= text.length && out.length < maxWords; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    const lower = c >= 65 && c <= 90 ? c + 32 : c;
    if ((lower >= 97 && lower <= 122) || (lower >= 48 && lower <= 57) || lower === 39 || (c >= 0xc0 && c < 0x2000)) {
      if (w.length < 24) w += String.fromCharCode(lower);
    } else {
      if (w !== '') out.push(w);
      w = '';
      // Punctuation that shapes a prompt (`:`, `?`, `[`, `>`) is a token of its own.
      if (c === 58 || c === 63 || c === 91 || c === 62 || c === 35 || c === 124 || c === 33) out.push(String.fromCharCode(c));
    }
  }
  return out;
}

/** Most chars of a word that count (as `words` keeps them). */
const WORD_CHARS = 24;

/**
 * Scratch space of feature extraction, reused by every call through it (extraction never re-enters
 * itself): the hashes of the block being counted, an open-addressing table counting its buckets (sized
 * to the block, so a short text's counts stay in the fastest cache instead of spreading over a 1 MB array
 * of 2^18 counts) with the slots in the order first seen, the output, and the token spans of the last
 * text. Owned by whoever extracts (the injection model of one detector set).
 */
export interface FeatureScratch {
  /** Open addressing, two ints a slot: 1 + the bucket it holds (0: empty), and its count. Its length is a power of two. */
  table: Int32Array;
  /** Slots of the current block's buckets, in the order first seen. */
  order: Int32Array;
  /** Hashes of the block being counted. */
  hashes: Int32Array;
  outIndex: Int32Array;
  outValue: Float32Array;
  /** [start, end) pairs of the tokens of the last text. */
  spans: Int32Array;
}

/** Fresh feature scratch (small buffers, grown on demand). */
export function createFeatureScratch(): FeatureScratch {
  return { table: new Int32Array(8192), order: new Int32Array(2048), hashes: new Int32Array(4096), outIndex: new Int32Array(4096), outValue: new Float32Array(4096), spans: new Int32Array(8192) };
}

// 1 + ln(count) for the counts most buckets have: the same doubles Math.log gives, without the call.
const SUBLINEAR = Float64Array.from({ length: 64 }, (_, c) => (c === 0 ? 0 : 1 + Math.log(c)));

/**
 * The tokens `words` returns, as [start, end) pairs in `scratch.spans` (end capped at WORD_CHARS past start),
 * without building a string per token: feature hashing reads the chars in place. Returns the token count.
 */
function wordSpans(scratch: FeatureScratch, text: string, maxWords = 4000): number {
  let spans = scratch.spans;
  let n = 0;
  let start = -1;
  for (let i = 0; i <= text.length && n < maxWords; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    const lower = c >= 65 && c <= 90 ? c + 32 : c;
    if ((lower >= 97 && lower <= 122) || (lower >= 48 && lower <= 57) || lower === 39 || (c >= 0xc0 && c < 0x2000)) {
      if (start < 0) start = i;
      continue;
    }
    if (2 * n + 4 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      spans = scratch.spans = grown;
    }
    if (start >= 0) {
      spans[2 * n] = start;
      spans[2 * n + 1] = Math.min(i, start + WORD_CHARS);
      n++;
    }
    start = -1;
    // Punctuation that shapes a prompt (`:`, `?`, `[`, `>`) is a token of its own.
    if (c === 58 || c === 63 || c === 91 || c === 62 || c === 35 || c === 124 || c === 33) {
      spans[2 * n] = i;
      spans[2 * n + 1] = i + 1;
      n++;
    }
  }
  return n;
}

const FNV_OFFSET = 0x811c9dc5;
const fnv = (h: number, c: number) => Math.imul(h ^ c, 0x01000193);
const fnvString = (h: number, s: string) => {
  let x = h;
  for (let i = 0; i < s.length; i++) x = fnv(x, s.charCodeAt(i));
  return x;
};
const W_SEED = fnvString(FNV_OFFSET, 'w:');
const B_SEED = fnvString(FNV_OFFSET, 'b:');
const C_SEED = fnvString(FNV_OFFSET, 'c:');

/**
 * Weight of the char-gram block against the word block (each block is L2-normalized on its own). One
 * norm over both let the far more numerous char grams drown the words: out-of-fold F1 on train (mean
 * of 5 fold seeds, NBSVM scaling) 0.956 with one norm, 0.961 with two norms at weight 1, 0.964 at 0.5,
 * 0.964 at 0.25, 0.963 at 0 (no char grams).
 */
export const CHAR_BLOCK_WEIGHT = 0.5;

/**
 * Extracts hashed features in two blocks, each with sublinear counts and L2-normalized on its own: word
 * unigrams and bigrams, then char 3..5-grams inside words (robust to misspellings) scaled by
 * CHAR_BLOCK_WEIGHT; then `extras` (rule hits, segments) as is. Hashes are FNV-1a of `w:word`,
 * `b:w1 w2`, `c:gram`, computed without building the strings. A bucket may appear in both blocks (a hash
 * collision); the model sums both. Callers extracting many texts pass one `scratch` (@default a fresh
 * one, for this call only).
 */
export function extractFeatures(text: string, extras: readonly string[] = [], scratch: FeatureScratch = createFeatureScratch(), maxWords = 4000): FeatureVector {
  const n = extractFeaturesInto(text, extras, scratch, maxWords);
  return { index: scratch.outIndex.slice(0, n), value: scratch.outValue.slice(0, n) };
}

/**
 * `extractFeatures` into `scratch.outIndex` and `scratch.outValue` (valid up to the returned length, until
 * the next call through `scratch`), so a caller that only reads the vector once allocates nothing.
 */
export function extractFeaturesInto(text: string, extras: readonly string[], scratch: FeatureScratch, maxWords = 4000): number {
  // Tokens as spans of `text` (the tokens of `words`, hashed in place: no string per token).
  const count = wordSpans(scratch, text, maxWords);
  const spans = scratch.spans;
  // Word block: `w:word` of each token and `b:word next` of each pair, counted in the order w0 b01 w1 b12 w2 ….
  // One pass over a token's chars carries three FNV states: its unigram, its pair's first half (`b:word`), and
  // the pair it ends (the previous token's `b:prev ` carried on over this one).
  let hashes = room(scratch, 2 * count);
  let h = 0;
  let pair = 0;
  for (let t = 0; t < count; t++) {
    let w = W_SEED;
    let b = B_SEED;
    let p = pair;
    const e = spans[2 * t + 1]!;
    for (let i = spans[2 * t]!; i < e; i++) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      w = fnv(w, c);
      b = fnv(b, c);
      p = fnv(p, c);
    }
    if (t > 0) hashes[h++] = p;
    hashes[h++] = w;
    pair = fnv(b, 32);
  }
  let out = countBlock(scratch, h, 0, 1);
  // Char block: 3..5-grams of ` w ` for every token of 3+ chars (position -1 and len stand for the padding spaces).
  let grams = 0;
  for (let t = 0; t < count; t++) {
    const len = spans[2 * t + 1]! - spans[2 * t]!;
    if (len >= 3) grams += 3 * len;
  }
  hashes = room(scratch, grams);
  h = 0;
  for (let t = 0; t < count; t++) {
    const from = spans[2 * t]!;
    const len = spans[2 * t + 1]! - from;
    if (len < 3) continue;
    for (let k = -1; k + 3 <= len + 1; k++) {
      let x = C_SEED;
      for (let j = 0; j < 5 && k + j <= len; j++) {
        let c = 32;
        if (k + j >= 0 && k + j < len) {
          c = text.charCodeAt(from + k + j);
          if (c >= 65 && c <= 90) c += 32;
        }
        x = fnv(x, c);
        if (j >= 2) hashes[h++] = x;
      }
    }
  }
  out = countBlock(scratch, h, out, CHAR_BLOCK_WEIGHT);
  const extra = new Set<number>();
  for (const e of extras) extra.add(hashFeature(`x:${e}`));
  let { outIndex, outValue } = scratch;
  if (out + extra.size > outIndex.length) {
    const index = new Int32Array(out + extra.size);
    const value = new Float32Array(out + extra.size);
    index.set(outIndex.subarray(0, out));
    value.set(outValue.subarray(0, out));
    outIndex = scratch.outIndex = index;
    outValue = scratch.outValue = value;
  }
  for (const k of extra) {
    outIndex[out] = k;
    outValue[out++] = 1;
  }
  return out;
}

/** `scratch.hashes`, grown to hold at least `n`. */
function room(scratch: FeatureScratch, n: number): Int32Array {
  if (scratch.hashes.length < n) scratch.hashes = new Int32Array(Math.max(n, 2 * scratch.hashes.length));
  return scratch.hashes;
}

/**
 * Counts the buckets of `scratch.hashes[0, n)` and appends them to the output from `out` on, in the order
 * first seen, L2-normalized and scaled by `weight`; returns the new output length. The arithmetic is that of a
 * Float32Array of counts: 1 + ln(count) in doubles for the norm, rounded to float32 for the value, which is
 * float32 again once scaled.
 */
function countBlock(scratch: FeatureScratch, n: number, out: number, weight: number): number {
  const hashes = scratch.hashes;
  let table = scratch.table;
  let order = scratch.order;
  let mask = (table.length >> 1) - 1;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const key = (hashes[i]! & MASK) + 1;
    // Buckets are hash bits already, so their low bits spread over the table as they are.
    let s = (key - 1) & mask;
    for (;;) {
      const e = table[2 * s]!;
      if (e === key) {
        table[2 * s + 1]!++;
        break;
      }
      if (e === 0) {
        table[2 * s] = key;
        table[2 * s + 1] = 1;
        order[seen++] = s;
        if (4 * seen >= table.length) {
          grow(scratch, seen);
          table = scratch.table;
          order = scratch.order;
          mask = (table.length >> 1) - 1;
        }
        break;
      }
      s = (s + 1) & mask;
    }
  }
  let { outIndex, outValue } = scratch;
  if (out + seen > outIndex.length) {
    const size = Math.max(outIndex.length * 2, out + seen);
    const index = new Int32Array(size);
    const value = new Float32Array(size);
    index.set(outIndex.subarray(0, out));
    value.set(outValue.subarray(0, out));
    outIndex = scratch.outIndex = index;
    outValue = scratch.outValue = value;
  }
  let norm = 0;
  for (let i = 0; i < seen; i++) {
    const s = order[i]!;
    const c = table[2 * s + 1]!;
    const v = c < 64 ? SUBLINEAR[c]! : 1 + Math.log(c);
    outIndex[out + i] = table[2 * s]! - 1;
    outValue[out + i] = v;
    norm += v * v;
    table[2 * s] = 0;
  }
  const scale = weight / (Math.sqrt(norm) || 1);
  for (let i = out; i < out + seen; i++) outValue[i] = outValue[i]! * scale;
  return out + seen;
}

/** Doubles `scratch.table`, re-placing the `seen` buckets counted so far (their order is kept). */
function grow(scratch: FeatureScratch, seen: number): void {
  const old = scratch.table;
  const table = (scratch.table = new Int32Array(old.length * 2));
  const mask = (table.length >> 1) - 1;
  if (scratch.order.length < table.length >> 2) {
    const o = new Int32Array(table.length >> 2);
    o.set(scratch.order);
    scratch.order = o;
  }
  const order = scratch.order;
  for (let i = 0; i < seen; i++) {
    const from = order[i]!;
    const key = old[2 * from]!;
    let s = (key - 1) & mask;
    while (table[2 * s] !== 0) s = (s + 1) & mask;
    table[2 * s] = key;
    table[2 * s + 1] = old[2 * from + 1]!;
    order[i] = s;
  }
}

// First words of a request or task a user would type: questions and imperatives.
const ASKS = new Set(
  'explain describe write draft summarize summarise translate list give tell what who how why when where which name create compose generate provide calculate recommend suggest compare define identify outline analyze analyse discuss can could please find show convert make plan design replace use answer respond reply add include start begin end change rewrite insert output print say spell encode sort count'.split(' '),
);

// Marks of an e-mail (headers, greetings, footers): the commonest carrier of indirect injection.
const MAIL_MARKS = ['subject:', 'from:', 'email_from:', 'dear ', 'hi ', 'hello ', 'regards', 'unsubscribe', 'reply to this email', 'sent from'];
// A line that talks about the model's own output is addressed to the model, not to the reader.
const YOUR_OUTPUT = ['your answer', 'your response', 'your reply', 'your output', 'your summary', 'your responses', 'your answers', 'your replies', 'your message', 'your text', 'your words', 'each response', 'every response', 'each answer', 'every answer'];

/**
 * Segment features: a short line that reads like a user's question or instruction, standing alone
 * inside a longer text (an e-mail, a page, a tool result) is how indirect injection arrives; its
 * position, and whether it splits a word of the surrounding text, are features of their own.
 */
export function segmentFeatures(text: string): string[] {
  // A text of one line has no line standing inside a longer text (most prompts are one line).
  if (text.indexOf('\n') < 0) return [];
  const out = new Set<string>();
  let index = 0;
  const lines: Array<[number, number]> = [];
  for (let lineStart = 0; ; ) {
    const nl = text.indexOf('\n', lineStart);
    lines.push([lineStart, nl < 0 ? text.length : nl]);
    if (nl < 0 || lines.length > 2000) break;
    lineStart = nl + 1;
  }
  let mail: boolean | undefined;
  let lowered: string | undefined;
  const lower = () => (lowered ??= text.toLowerCase());
  let mentions: Array<readonly [number, number]> | undefined;
  let next = 0;
  // Every phrase holds `our `, `ach ` or `ery ` (in `your `, `each `, `every `) in lower or upper case: where
  // those stand is found once per text with native searches, and only a line holding one is lower-cased and
  // searched for the phrases (most texts have none, and most of their lines are not requests).
  const mentionsOutput = (a: number, b: number): boolean => {
    if (mentions === undefined) {
      mentions = [];
      for (const m of ['our ', 'ach ', 'ery ', 'OUR ', 'ACH ', 'ERY ']) for (let k = text.indexOf(m); k >= 0; k = text.indexOf(m, k + 1)) mentions.push([k, k + m.length]);
      mentions.sort((x, y) => x[0] - y[0]);
    }
    while (next < mentions.length && mentions[next]![0] < a) next++;
    if (next >= mentions.length || mentions[next]![0] >= b) return false;
    const line = text.slice(a, b).toLowerCase();
    return YOUR_OUTPUT.some((m) => line.includes(m));
  };
  for (const [s, e] of lines) {
    const i = index++;
    let a = s;
    let b = e;
    while (a < b && text.charCodeAt(a) <= 32) a++;
    while (b > a && text.charCodeAt(b - 1) <= 32) b--;
    const len = b - a;
    if (len < 10 || len > 160 || lines.length < 2 || text.length < 2 * len + 60) continue;
    let w = a;
    while (w < b && /* letters only */ ((text.charCodeAt(w) | 0x20) >= 97 && (text.charCodeAt(w) | 0x20) <= 122)) w++;
    const first = text.slice(a, w).toLowerCase();
    const asks = text.charCodeAt(b - 1) === 63 || ASKS.has(first);
    // A line about the reader's own reply is aimed at a model whatever verb it starts with.
    const yourOutput = mentionsOutput(a, b);
    if (yourOutput) out.add('seg:your_output');
    if (!asks) continue;
    const pos = i === 0 ? 'start' : i === lines.length - 1 ? 'end' : 'mid';
    out.add('seg:ask');
    if (text.length - len >= 200) out.add('seg:ask:doc');
    if (mail === undefined) mail = MAIL_MARKS.some((m) => lower().includes(m));
    if (mail) out.add('seg:ask:mail');
    if (yourOutput) out.add('seg:ask:your_output');
    out.add(`seg:ask:${pos}`);
    if (text.charCodeAt(b - 1) === 63) out.add('seg:ask:q');
    else out.add('seg:ask:imp');
    const prev = lines[i - 1];
    const next = lines[i + 1];
    if (prev !== undefined && next !== undefined) {
      const pc = text.charCodeAt(prev[1] - 1);
      const nc = text.charCodeAt(next[0]);
      if (pc >= 97 && pc <= 122 && nc >= 97 && nc <= 122) out.add('seg:ask:split');
    }
  }
  return [...out];
}

/** Length bucket feature: short prompts and long documents behave differently. */
export function lengthBucket(chars: number): string {
  return chars < 80 ? 'len:xs' : chars < 300 ? 'len:s' : chars < 1200 ? 'len:m' : chars < 4000 ? 'len:l' : 'len:xl';
}
