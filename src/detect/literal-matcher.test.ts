import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIntList } from './int-list.js';
import { createLiteralMatcher } from './literal-matcher.js';

describe('createLiteralMatcher', () => {
  it('reports every occurrence of every literal, overlapping ones included', () => {
    const literals = ['he', 'she', 'his', 'hers', 'h', 'ushers', '\u{1F512}', 'é'];
    const m = createLiteralMatcher(literals);
    fc.assert(
      fc.property(fc.array(fc.constantFrom('h', 'e', 's', 'r', 'u', 'i', ' ', 'é', '\u{1F512}'), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const hits = createIntList(4);
        m.scan(text, hits);
        const got: string[] = [];
        for (let k = 0; k < hits.length; k += 2) got.push(`${hits.values[k]}@${hits.values[k + 1]}`);
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
