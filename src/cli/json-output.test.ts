import { describe, expect, it } from 'vitest';
import { jsonText, sortedKeys } from './json-output.js';

describe('sortedKeys', () => {
  it('prints two objects with the same content but another key order as the same text, at every depth', () => {
    const fromStore = { name: 'files', owner: undefined, info: { version: '1', name: 'x' }, tools: [{ b: 1, a: 2 }] };
    const fromApi = { tools: [{ a: 2, b: 1 }], info: { name: 'x', version: '1' }, name: 'files' };
    expect(jsonText(fromStore)).toBe(jsonText(fromApi));
    expect(jsonText(fromApi)).toBe('{\n  "info": {\n    "name": "x",\n    "version": "1"\n  },\n  "name": "files",\n  "tools": [\n    {\n      "a": 2,\n      "b": 1\n    }\n  ]\n}\n');
  });

  it('keeps a `__proto__` key from hostile input as data, never as a prototype', () => {
    const hostile = JSON.parse('{"z":1,"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const sorted = sortedKeys(hostile);
    expect(Object.keys(sorted)).toEqual(['__proto__', 'z']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(sorted)).toBe('{"__proto__":{"polluted":true},"z":1}');
  });
});
