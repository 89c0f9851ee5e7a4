import { describe, expect, it } from 'vitest';
import { excerpt } from './evidence.js';

/** `excerpt` as first written: the whole value collapsed, then cut. */
const naive = (value: string, max = 80) => {
  const v = value.replace(/\s+/g, ' ').trim();
  return v.length <= max ? v : `${v.slice(0, max - 1)}…`;
};

describe('excerpt', () => {
  it('equals collapsing the whole value, for long values of any whitespace and surrogates', () => {
    let seed = 5;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const parts = ['a', 'word ', ' ', '\t', '\n', '\r\n', '\u00a0', '\u2028', '\u3000', '\ufeff', '😀', '\uD83D', 'é', '      '];
    for (let k = 0; k < 4000; k++) {
      let v = '';
      const len = Math.floor(next() * 500);
      // Some values are mostly whitespace, so the head holds too little and the whole value decides.
      const spaces = next() < 0.3;
      for (let j = 0; j < len; j++) v += spaces && next() < 0.9 ? ' \n\t'[Math.floor(next() * 3)] : parts[Math.floor(next() * parts.length)];
      for (const max of [1, 2, 10, 60, 80]) expect(excerpt(v, max)).toBe(naive(v, max));
    }
  });
});
