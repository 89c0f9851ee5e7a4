const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of the UTF-8 bytes of an ASCII string. */
export function crc32(ascii: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) c = CRC_TABLE[(c ^ ascii.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 of `n`, left-padded with `0` to `width`. */
export function base62(n: number, width: number): string {
  let s = '';
  let v = n;
  do {
    s = BASE62[v % 62]! + s;
    v = Math.floor(v / 62);
  } while (v > 0);
  return s.padStart(width, '0');
}

/**
 * Checks the CRC-32 that GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens end with:
 * the last 6 chars are base62(crc32(the 30 random chars before them)).
 */
export function hasValidTokenChecksum(token: string): boolean {
  const body = token.slice(token.indexOf('_') + 1);
  if (body.length !== 36) return false;
  return base62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

/** Scratch counts for ASCII input, reused by every call through it (a call never re-enters itself); left all zero. */
export interface EntropyScratch {
  readonly counts: Int32Array;
  readonly order: Int32Array;
}

/** Fresh entropy scratch (two 128-entry tables). */
export function createEntropyScratch(): EntropyScratch {
  return { counts: new Int32Array(128), order: new Int32Array(128) };
}

/** Shannon entropy in bits per char; `scratch` saves two small allocations per call. */
export function shannonEntropy(s: string, scratch: EntropyScratch = createEntropyScratch()): number {
  if (s.length === 0) return 0;
  const { counts: asciiCounts, order: asciiOrder } = scratch;
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 128;
  if (ascii) {
    // The same sum as below, in the same order (first occurrence), without a Map.
    let distinct = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (asciiCounts[c]!++ === 0) asciiOrder[distinct++] = c;
    }
    let h = 0;
    for (let k = 0; k < distinct; k++) {
      const c = asciiOrder[k]!;
      const p = asciiCounts[c]! / s.length;
      h -= p * Math.log2(p);
      asciiCounts[c] = 0;
    }
    return h;
  }
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
