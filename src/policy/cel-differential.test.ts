import { run } from '@bufbuild/cel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCel } from './cel.js';

// A differential test (DESIGN.md "Chosen parts"): random, well-typed conditions over the documented
// subset (int/string/bool arithmetic, comparisons, logic with CEL's error absorption, ternaries,
// `in`, size, string predicates, has(), list index, exists/all) must give the same value — or both
// an error — in the engine Warden uses (@marcbachmann/cel-js) and in @bufbuild/cel.
const ACT = { args: { a: 3n, b: -7n, s: 'warden', t: 'war', xs: [1n, 2n, 3n], m: { k: 1n } } };

const { bool } = fc.letrec<{ int: string; str: string; bool: string }>((tie) => ({
  int: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -5, max: 5 }).map(String),
    fc.constantFrom('args.a', 'args.b', 'args.xs[0]', 'args.xs[2]', 'args.xs[3]', 'size(args.xs)', 'size(args.s)', 'args.m.k'),
    fc.tuple(tie('int'), fc.constantFrom('+', '-', '*', '/', '%'), tie('int')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    fc.tuple(tie('bool'), tie('int'), tie('int')).map(([c, l, r]) => `(${c} ? ${l} : ${r})`),
  ),
  str: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('"war"', '"den"', '""', 'args.s', 'args.t'),
    fc.tuple(tie('str'), tie('str')).map(([l, r]) => `(${l} + ${r})`),
  ),
  bool: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('true', 'false', 'has(args.m.k)', 'has(args.m.z)'),
    fc.tuple(tie('int'), fc.constantFrom('==', '!=', '<', '<=', '>', '>='), tie('int')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    fc.tuple(tie('str'), fc.constantFrom('==', '!=', '<'), tie('str')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    fc.tuple(tie('str'), fc.constantFrom('startsWith', 'endsWith', 'contains'), tie('str')).map(([l, f, r]) => `${l}.${f}(${r})`),
    tie('int').map((i) => `(${i} in args.xs)`),
    fc.tuple(fc.constantFrom('exists', 'all'), fc.constantFrom('>', '<', '=='), fc.integer({ min: 0, max: 4 })).map(([m, op, n]) => `args.xs.${m}(x, x ${op} ${n})`),
    tie('bool').map((b) => `!${b}`),
    fc.tuple(tie('bool'), fc.constantFrom('&&', '||'), tie('bool')).map(([l, op, r]) => `(${l} ${op} ${r})`),
  ),
}));

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error' };

function viaBufbuild(expr: string): Outcome {
  try {
    const v = run(expr, ACT as never);
    return v instanceof Error ? { kind: 'error' } : { kind: 'value', value: v };
  } catch {
    return { kind: 'error' };
  }
}

function viaWarden(expr: string): Outcome | 'rejected' {
  const c = compileCel(expr);
  if (!c.ok) return 'rejected';
  try {
    return { kind: 'value', value: c.program(ACT) };
  } catch {
    return { kind: 'error' };
  }
}

describe('CEL: Warden engine vs @bufbuild/cel', () => {
  it('agree on random well-typed conditions', () => {
    let compared = 0;
    fc.assert(
      fc.property(bool, (expr) => {
        const w = viaWarden(expr);
        // The type checker may refuse what it cannot prove well-typed; a refused policy never loads,
        // which is the safe side. Everything it accepts must evaluate like the other engine.
        if (w === 'rejected') return;
        compared++;
        expect(w, expr).toEqual(viaBufbuild(expr));
      }),
      { numRuns: 400 },
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('differ only where documented: mixed int/double equality is refused at load', () => {
    expect(viaWarden('1 == 1.0')).toBe('rejected');
    expect(viaBufbuild('1 == 1.0')).toEqual({ kind: 'value', value: true });
  });
});
