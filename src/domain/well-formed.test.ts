import { describe, expect, it } from 'vitest';
import { digestJson } from './canonical.js';
import { wellFormedValue } from './well-formed.js';

describe('wellFormedValue', () => {
  it('returns the same value when every string is well-formed', () => {
    const v = { a: ['x', { b: 'ü😀' }], n: 1, z: null };
    expect(wellFormedValue(v)).toBe(v);
  });

  it('replaces unpaired surrogates in values and keys, leaving the input untouched, so the result can be digested', () => {
    const v = { content: [{ type: 'text', text: 'a\ud800b' }], ['k\udc00']: 1 };
    expect(() => digestJson(v)).toThrow();
    const fixed = wellFormedValue(v) as typeof v;
    expect(fixed).toEqual({ content: [{ type: 'text', text: 'a\ufffdb' }], 'k\ufffd': 1 });
    expect(v.content[0]!.text).toBe('a\ud800b');
    expect(digestJson(fixed)).toMatch(/^sha256:/);
  });

  it('walks 100,000-deep values without recursion', () => {
    let deep: unknown = 'x\ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const fixed = wellFormedValue(deep);
    let inner: unknown = fixed;
    for (let i = 0; i < 100_000; i++) inner = (inner as unknown[])[0];
    expect(inner).toBe('x\ufffd');
  });
});
