import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Prefixed, SHORT_MAX } from './sha256-short.js';

describe('sha256Prefixed', () => {
  it('hashes as node:crypto does, for every length it takes and at any offset', () => {
    const src = randomBytes(SHORT_MAX + 40);
    const out = new Uint8Array(40);
    for (let len = 0; len <= SHORT_MAX; len++) {
      for (const [prefix, off] of [[0, 0], [1, 3], [0xff, 17]] as const) {
        sha256Prefixed(prefix, src, off, len, out, 5);
        const expected = createHash('sha256').update(Buffer.from([prefix])).update(src.subarray(off, off + len)).digest();
        expect(Buffer.from(out.subarray(5, 37)).equals(expected), `length ${len}, prefix ${prefix}, offset ${off}`).toBe(true);
      }
    }
  });

  it('may write over its own input, as the Merkle builder folds a node onto its left child', () => {
    const buf = randomBytes(64);
    const expected = createHash('sha256').update(Buffer.from([1])).update(buf).digest();
    sha256Prefixed(1, buf, 0, 64, buf, 0);
    expect(buf.subarray(0, 32).equals(expected)).toBe(true);
  });

  it('refuses a length past two blocks', () => {
    expect(() => sha256Prefixed(0, new Uint8Array(200), 0, SHORT_MAX + 1, new Uint8Array(32), 0)).toThrow(RangeError);
  });
});
