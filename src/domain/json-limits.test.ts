import { describe, expect, it } from 'vitest';
import { echoKey, echoText, jsonTextTooDeep, jsonValueIssue } from './json-limits.js';

describe('jsonTextTooDeep', () => {
  it('counts brackets outside strings only, escapes included', () => {
    expect(jsonTextTooDeep('[[1]]', 2)).toBeUndefined();
    expect(jsonTextTooDeep('[[[1]]]', 2)).toBe(2);
    expect(jsonTextTooDeep('{"a":"[[[[\\"[[["}', 1)).toBeUndefined();
    expect(jsonTextTooDeep('["\\\\",[[1]]]', 2)).toBe(7);
  });

  it('stops early on a megabyte of brackets', () => {
    expect(jsonTextTooDeep('['.repeat(1_000_000), 64)).toBe(64);
  });
});

describe('jsonValueIssue', () => {
  it('accepts what JSON carries faithfully, NUL included', () => {
    expect(jsonValueIssue({ a: [1, 'x\u0000', null, true, { b: -0 }], '': 1e308 })).toBeUndefined();
    expect(jsonValueIssue(undefined)).toBeUndefined();
  });

  it.each([
    [{ a: { b: NaN } }, '/a/b', 'must be a finite number (a literal such as `1e999` overflows to infinity)'],
    [[Infinity], '/0', 'must be a finite number (a literal such as `1e999` overflows to infinity)'],
    [{ s: 'a\ud800' }, '/s', 'contains an unpaired UTF-16 surrogate; send well-formed Unicode text'],
    [{ 'a/b': { '\udc00': 1 } }, '/a~1b/\uFFFD', 'is a key with an unpaired UTF-16 surrogate; send well-formed Unicode text'],
    [JSON.parse('{"x":{"__proto__":1}}'), '/x', 'has a `__proto__` key, which Warden refuses because it can rewrite object prototypes'],
    [{ f: () => 1 }, '/f', 'is not a JSON value'],
    [{ n: 1n }, '/n', 'is not a JSON value'],
  ])('names the first problem (%#)', (value, path, message) => {
    expect(jsonValueIssue(value)).toEqual({ path, message });
  });

  it('refuses nesting past the limit without walking it, whatever its depth', () => {
    let v: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) v = [v];
    const issue = jsonValueIssue({ args: v }, { maxDepth: 64, path: '/body' });
    expect(issue?.message).toBe('nests deeper than 64 levels of objects and arrays');
    expect(issue?.path.endsWith('…')).toBe(true);
    expect(jsonValueIssue(v, { maxDepth: 2_000_000 })).toBeUndefined();
  });
});

describe('echo', () => {
  it('bounds a caller’s text and escapes a pointer segment', () => {
    expect(echoText('k'.repeat(100))).toBe(`${'k'.repeat(40)}…`);
    expect(echoText('\ud800')).toBe('\uFFFD');
    expect(echoKey('a/b~c')).toBe('a~1b~0c');
  });
});
