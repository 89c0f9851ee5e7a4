import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalize } from './normalize.js';

/**
 * Seeded texts over an alphabet of every trick `normalize` undoes (tags, zero-width and bidi chars,
 * variation selectors, homoglyphs, fullwidth and compatibility forms, a lone surrogate, leetspeak digits,
 * spacers) mixed with ASCII letters, ASCII runs and accented prose.
 */
function corpus(): string[] {
  let seed = 19;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const alphabet = ['a', 'b', 'e', 'I', ' ', ' ', '.', '-', '_', 'é', 'і', 'а', 'Ω', '\u200b', '\u200d', '\u200f', '\u202e', '\u2066', '\uFEFF', '\u00ad', '\u{E0041}', '\u{E0020}', '\u{E007F}', '🏴', '\uFE0F', '\u{E0100}', '1', '0', '3', '4', 'ｉ', 'ß', 'ﬁ', '①', '™', '\uD800', '\n', '@', '$', '!', '—', '“', '中', 'ignore ', 'previous ', 'Hello world, '];
  const out: string[] = [];
  for (let k = 0; k < 6000; k++) {
    let t = '';
    const len = Math.floor(next() * (k % 10 === 0 ? 400 : 40));
    for (let j = 0; j < len; j++) t += alphabet[Math.floor(next() * alphabet.length)];
    out.push(t);
  }
  return out;
}

/** Everything `normalize` returns for `text`: the view's text, its marks, and the raw span of every span of the view up to 3 chars. */
function outcome(text: string, fold: Map<number, string>, letters: Map<number, boolean>): string {
  const n = normalize(text, fold, letters);
  const spans: number[] = [];
  for (let s = 0; s <= n.view.text.length; s++) for (let e = s; e <= Math.min(s + 3, n.view.text.length); e++) spans.push(...n.view.toRaw(s, e));
  return JSON.stringify([n.view.kind, n.view.text, n.marks, spans]);
}

describe('normalize, differential', () => {
  it('returns what the per-char implementation of 9b5023e returned on 6 000 seeded tricky texts', () => {
    // Recorded by running `outcome` over `corpus()` against src/detect/normalize/normalize.ts as of 9b5023e
    // (every char pushed to arrays, `unspace` always run), Node 20's ICU. A change meant to alter normalization
    // rewrites it; so may a Node whose Unicode data folds or classes a char of the alphabet differently.
    const h = createHash('sha256');
    const fold = new Map<number, string>();
    const letters = new Map<number, boolean>();
    for (const t of corpus()) h.update(outcome(t, fold, letters) + '\n');
    expect(h.digest('hex')).toBe('cf0af37f214851d4dd04af740307fe2d82c3b5ae81257ecb0c0b74fd0d4be839');
  });
  it('gives the same result with caches shared across texts as with fresh ones', () => {
    const fold = new Map<number, string>();
    const letters = new Map<number, boolean>();
    for (const t of corpus().slice(0, 600)) expect(outcome(t, fold, letters)).toBe(outcome(t, new Map(), new Map()));
  });
});
