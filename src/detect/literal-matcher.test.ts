import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLiteralMatcher } from './literal-matcher.js';

describe('createLiteralMatcher', () => {
  it('reports every occurrence of every literal, overlapping ones included', () => {
    const literals = ['he', 'she', 'his', 'hers', 'h', 'ushers', '\u{1F512}', 'é'];
    const m = createLiteralMatcher(literals);
    fc.assert(
      fc.property(fc.array(fc.constantFrom('h', 'e', 's', 'r', 'u', 'i', ' ', 'é', '\u{1F512}'), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const got: string[] = [];
        m.scan(text, (lit, start) => got.push(`${lit}@${start}`));
        const want: string[] = [];
        literals.forEach((l, i) => {
          for (let p = text.indexOf(l); p >= 0; p = text.indexOf(l, p + 1)) want.push(`${i}@${p}`);
        });
        expect(got.sort()).toEqual(want.sort());
      }),
      { numRuns: 300 },
    );
  });
});
