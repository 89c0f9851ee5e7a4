/**
 * SHA-256 (FIPS 180-4) of one prefix byte and up to 118 more, in JavaScript. The Merkle tree's
 * leaves and nodes hash 33 and 65 bytes, one of each per event, and at that size node:crypto's
 * fixed cost per call (argument checks, a Buffer, the native boundary: about 2.5 µs of CPU per
 * call on the bench machine against 1.9 µs for this, two blocks) is most of the price. Longer
 * inputs (event bodies) stay with node:crypto. Checked against node:crypto in its test.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const H = new Int32Array(8);
// The padded message: at most two blocks.
const M = new Uint8Array(128);

/** The longest input after the prefix byte: two blocks less the 0x80 byte and the 8-byte length. */
export const SHORT_MAX = 118;

function compress(off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] = (M[j]! << 24) | (M[j + 1]! << 16) | (M[j + 2]! << 8) | M[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = H[0]!;
  let b = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  let e = H[4]!;
  let f = H[5]!;
  let g = H[6]!;
  let h = H[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
  H[5] = (H[5]! + f) | 0;
  H[6] = (H[6]! + g) | 0;
  H[7] = (H[7]! + h) | 0;
}

/**
 * Writes SHA-256 of `prefix` (one byte) followed by `src[off, off + len)` to `out[outOff, outOff + 32)`.
 * `len` is at most SHORT_MAX; `out` may be `src`.
 */
export function sha256Prefixed(prefix: number, src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  if (len > SHORT_MAX || len < 0) throw new RangeError(`sha256Prefixed hashes at most ${SHORT_MAX} bytes after the prefix, not ${len}`);
  const n = len + 1;
  const blocks = n + 9 <= 64 ? 1 : 2;
  M[0] = prefix;
  for (let i = 0; i < len; i++) M[i + 1] = src[off + i]!;
  M[n] = 0x80;
  const end = 64 * blocks;
  for (let i = n + 1; i < end - 4; i++) M[i] = 0;
  // The length in bits, big-endian in the last 8 bytes; the upper 4 are 0 at this size.
  const bits = n * 8;
  M[end - 4] = bits >>> 24;
  M[end - 3] = (bits >>> 16) & 255;
  M[end - 2] = (bits >>> 8) & 255;
  M[end - 1] = bits & 255;
  H.set(IV);
  compress(0);
  if (blocks === 2) compress(64);
  for (let i = 0; i < 8; i++) {
    const v = H[i]!;
    out[outOff + 4 * i] = v >>> 24;
    out[outOff + 4 * i + 1] = (v >>> 16) & 255;
    out[outOff + 4 * i + 2] = (v >>> 8) & 255;
    out[outOff + 4 * i + 3] = v & 255;
  }
}
