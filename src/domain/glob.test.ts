import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobs } from './glob.js';

// The reference: a straightforward dynamic programme over glob and value (no regular expression).
function reference(glob: string, value: string): boolean {
  const g = [...glob];
  const v = [...value];
  let row = new Array<boolean>(v.length + 1).fill(false);
  row[0] = true;
  for (const c of g) {
    const next = new Array<boolean>(v.length + 1).fill(false);
    if (c === '*') {
      let any = false;
      for (let j = 0; j <= v.length; j++) next[j] = any = any || row[j]!;
    } else {
      for (let j = 1; j <= v.length; j++) next[j] = row[j - 1]! && v[j - 1] === c;
    }
    row = next;
  }
  return row[v.length]!;
}

describe('compileGlob', () => {
  it('matches any run of characters with `*`, dots, slashes and newlines included', () => {
    expect(compileGlob('deploy.*')('deploy.release')).toBe(true);
    expect(compileGlob('*.exec')('ops.shell.exec')).toBe(true);
    expect(compileGlob('file:///logs/*')('file:///logs/a/b.txt')).toBe(true);
    expect(compileGlob('a*b')('a\nb')).toBe(true);
    expect(compileGlob('*')('')).toBe(true);
    expect(compileGlob('a*b*c')('abc')).toBe(true);
    expect(compileGlob('a*b*c')('acb')).toBe(false);
    expect(compileGlob('ab*ba')('aba')).toBe(false);
    expect(compileGlob('x')('x\n')).toBe(false);
  });

  it('treats regular-expression characters literally', () => {
    expect(compileGlob('a.b')('axb')).toBe(false);
    expect(compileGlob('(a|b)*')('(a|b)c')).toBe(true);
    expect(compileGlob('a+')('aa')).toBe(false);
  });

  it('agrees with a reference matcher on generated globs and values', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '*', '\n');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '.', '\n'), maxLength: 12 }), (glob, value) => {
        expect(compileGlob(glob)(value)).toBe(reference(glob, value));
      }),
      { numRuns: 3000 },
    );
  });

  it('stays linear on a hostile glob and value (no backtracking)', () => {
    const glob = `${'*a'.repeat(40)}*b`;
    const value = 'a'.repeat(200_000);
    const started = performance.now();
    expect(compileGlob(glob)(value)).toBe(false);
    // A backtracking regex takes minutes here; the matcher is a handful of indexOf scans.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('matches any of a list, and nothing for an empty list', () => {
    expect(compileGlobs(['a.*', 'b.*'])('b.x')).toBe(true);
    expect(compileGlobs([])('a')).toBe(false);
  });
});
