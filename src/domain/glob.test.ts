import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobs, foldCase } from './glob.js';

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

describe('compileGlob with foldCase', () => {
  const folded = (glob: string) => compileGlob(glob, { foldCase: true });

  it('matches whatever the case of the value or the glob', () => {
    expect(folded('*delete_all')('Delete_All')).toBe(true);
    expect(folded('*delete_all')('files.DELETE_ALL')).toBe(true);
    expect(folded('Shell.*')('shell.run')).toBe(true);
    expect(folded('db.query')('DB.Query')).toBe(true);
    expect(folded('db.query')('db.queries')).toBe(false);
    expect(compileGlobs(['a.*', '*delete_all'], { foldCase: true })('X.Delete_All')).toBe(true);
    expect(compileGlobs([], { foldCase: true })('a')).toBe(false);
    // Exact unless asked: the default is unchanged for every other use.
    expect(compileGlob('*delete_all')('Delete_All')).toBe(false);
  });

  it('folds Unicode case, not only ASCII', () => {
    expect(folded('*straße')('STRASSE')).toBe(true);
    expect(folded('ΟΔΟΣ*')('οδος.x')).toBe(true);
    expect(folded('οδοσ')('ΟΔΟς')).toBe(true);
    expect(folded('kelvin')('\u212Aelvin')).toBe(true);
    expect(folded('é*')('É.x')).toBe(true);
    // A fullwidth asterisk is a letter-like character, never a wildcard.
    expect(folded('a\uFF0Ab')('axb')).toBe(false);
  });

  const unit = fc.constantFrom('a', 'A', 'ß', 'S', 's', 'Σ', 'σ', 'ς', 'K', '\u212A', 'k', 'İ', 'i', 'I', 'ı', '.', '*', '\uD83D\uDE00');
  const value = fc.string({ unit: fc.constantFrom('a', 'A', 'ß', 'S', 's', 'Σ', 'σ', 'ς', 'K', '\u212A', 'k', 'İ', 'i', 'I', 'ı', '.', '\uD83D\uDE00'), maxLength: 10 });

  it('is the exact matcher over folded glob and value, so it never loses an exact match', () => {
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 8 }), value, (glob, v) => {
        const got = folded(glob)(v);
        expect(got).toBe(reference(foldCase(glob), foldCase(v)));
        if (compileGlob(glob)(v)) expect(got).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same answer for a value in upper, lower or original case', () => {
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 8 }), value, (glob, v) => {
        const m = folded(glob);
        expect(m(v.toUpperCase())).toBe(m(v));
        expect(m(v.toLowerCase())).toBe(m(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('stays linear on a hostile glob and a long non-ASCII value', () => {
    const glob = `${'*ß'.repeat(40)}*b`;
    const v = 'ẞ'.repeat(100_000);
    const started = performance.now();
    expect(folded(glob)(v)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('foldCase', () => {
  it('is idempotent on every code point, so a folded glob and a folded name never disagree (U+1E9E folds in two rounds)', () => {
    const bad: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const once = foldCase(ch);
      if (foldCase(once) !== once) bad.push(cp.toString(16));
    }
    expect(bad).toEqual([]);
    expect(compileGlob('srv.straße_löschen', { foldCase: true })('srv.STRAẞE_LÖSCHEN')).toBe(true);
    expect(compileGlob('srv.STRAẞE*', { foldCase: true })('srv.strasse_x')).toBe(true);
  });
});
