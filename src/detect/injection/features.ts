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

/**
 * Extracts hashed features: word unigrams and bigrams, char 3..5-grams inside words (robust to
 * misspellings), with sublinear counts and L2 normalization; then `extras` (rule hits, length) as is.
 */
export function extractFeatures(text: string, extras: readonly string[] = []): FeatureVector {
  const counts = new Map<number, number>();
  const add = (f: string) => {
    const h = hashFeature(f);
    counts.set(h, (counts.get(h) ?? 0) + 1);
  };
  const ws = words(text);
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    add(`w:${w}`);
    if (i + 1 < ws.length) add(`b:${w} ${ws[i + 1]}`);
    if (w.length >= 3 && w.length <= 24) {
      const padded = ` ${w} `;
      for (let n = 3; n <= 5; n++) for (let k = 0; k + n <= padded.length; k++) add(`c:${padded.slice(k, k + n)}`);
    }
  }
  let norm = 0;
  for (const [k, v] of counts) {
    const s = 1 + Math.log(v);
    counts.set(k, s);
    norm += s * s;
  }
  norm = Math.sqrt(norm) || 1;
  const extra = new Map<number, number>();
  for (const e of extras) extra.set(hashFeature(`x:${e}`), 1);
  const size = counts.size + extra.size;
  const index = new Int32Array(size);
  const value = new Float32Array(size);
  let i = 0;
  for (const [k, v] of counts) {
    index[i] = k;
    value[i++] = v / norm;
  }
  for (const [k, v] of extra) {
    index[i] = k;
    value[i++] = v;
  }
  return { index, value };
}

/** Length bucket feature: short prompts and long documents behave differently. */
export function lengthBucket(chars: number): string {
  return chars < 80 ? 'len:xs' : chars < 300 ? 'len:s' : chars < 1200 ? 'len:m' : chars < 4000 ? 'len:l' : 'len:xl';
}
