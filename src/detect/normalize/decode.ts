import type { TextView } from '../detector.js';
import { blobView } from './text-view.js';

/** Bounds on decoding nested payloads. */
export interface DecodeLimits {
  /** How many layers deep to decode (base64 inside hex inside base64...). @default 3 */
  depth?: number;
  /** Total decoded chars kept per input; past it, decoding stops. @default 65536 */
  maxChars?: number;
  /** Shortest run worth trying to decode. @default 16 */
  minRun?: number;
}

const B64 = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=') B64[c.charCodeAt(0)] = 1;
const isB64 = (c: number) => c < 128 && B64[c] === 1;
const isAllB64 = (s: string) => {
  for (let i = 0; i < s.length; i++) if (!isB64(s.charCodeAt(i))) return false;
  return true;
};
const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** True when `s` reads as text: mostly printable, with letters and some spaces (not another binary blob). */
export function looksLikeText(s: string): boolean {
  if (s.length < 8) return false;
  let printable = 0;
  let letters = 0;
  let spaces = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) spaces++;
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9 || c >= 160) printable++;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
  }
  return printable / s.length > 0.95 && letters / s.length > 0.5 && spaces >= 1;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string | undefined {
  // Bytes that can neither read as text nor be another encoding layer are dropped before decoding:
  // a failed fatal decode throws, and exceptions are the slow path of a scan full of random tokens.
  let high = 0;
  let control = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) high++;
    else if ((b < 32 && b !== 9 && b !== 10 && b !== 13) || b === 127) control++;
  }
  if (control * 20 > bytes.length || high * 3 > bytes.length * 2) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeBase64(run: string): string | undefined {
  const clean = run.replace(/[-_=]/g, (c) => (c === '-' ? '+' : c === '_' ? '/' : ''));
  if (clean.length % 4 === 1) return undefined;
  try {
    const bin = atob(clean + '='.repeat((4 - (clean.length % 4)) % 4));
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return utf8(bytes);
  } catch {
    return undefined;
  }
}

function decodeHex(run: string): string | undefined {
  const n = run.length - (run.length % 2);
  const bytes = new Uint8Array(n / 2);
  for (let i = 0; i < n; i += 2) bytes[i / 2] = Number.parseInt(run.slice(i, i + 2), 16);
  return utf8(bytes);
}

const COMMON = new Set(['the', 'and', 'you', 'to', 'of', 'a', 'is', 'are', 'all', 'your', 'this', 'that', 'with', 'for', 'ignore', 'previous', 'instructions', 'now', 'system', 'prompt', 'tell', 'me', 'what', 'do', 'not', 'it', 'in', 'be', 'as', 'on']);

const wordHash = (h: number, c: number) => (Math.imul(h, 31) + c) | 0;
const hashOf = (w: string) => [...w].reduce((h, c) => wordHash(h, c.charCodeAt(0)), 0);
// Common words, and what reads as one through ROT13, by a hash of their letters: a word is built as a
// string only when its hash is one of them.
const ROT13_COMMON = new Set([...COMMON].map(rot13));
const COMMON_HASHES = new Set([...COMMON].map(hashOf));
const ROT13_COMMON_HASHES = new Set([...ROT13_COMMON].map(hashOf));
const COMMON_LONGEST = Math.max(...[...COMMON].map((w) => w.length));
// The low bits of those hashes, as a bitmap (1: a common word's, 2: a rotated one's): most words miss it, and
// only a word that hits is looked up in the sets.
const HASH_BITS = new Uint8Array(4096);
for (const h of COMMON_HASHES) HASH_BITS[h & 4095]! |= 1;
for (const h of ROT13_COMMON_HASHES) HASH_BITS[h & 4095]! |= 2;

/** The lower-case letters of `s[start, end)`. */
function lowerWord(s: string, start: number, end: number): string {
  let w = '';
  for (let i = start; i < end; i++) w += String.fromCharCode(s.charCodeAt(i) | 0x20);
  return w;
}

/** Counts common English words in `s` as it reads and through ROT13, in one pass: a cheap test for "this is prose". */
function englishHits(s: string): { plain: number; rotated: number } {
  let plain = 0;
  let rotated = 0;
  let start = -1;
  let h = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) | 0x20 : 32;
    if (c >= 97 && c <= 122) {
      if (start < 0) {
        start = i;
        h = 0;
      }
      h = wordHash(h, c);
    } else if (start >= 0) {
      const bits = i - start <= COMMON_LONGEST ? HASH_BITS[h & 4095]! : 0;
      if (bits !== 0) {
        if (bits & 1 && COMMON_HASHES.has(h) && COMMON.has(lowerWord(s, start, i))) plain++;
        if (bits & 2 && ROT13_COMMON_HASHES.has(h) && ROT13_COMMON.has(lowerWord(s, start, i))) rotated++;
      }
      start = -1;
    }
  }
  return { plain, rotated };
}

/** Applies ROT13 to ASCII letters. */
export function rot13(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) out += String.fromCharCode(((c - 65 + 13) % 26) + 65);
    else if (c >= 97 && c <= 122) out += String.fromCharCode(((c - 97 + 13) % 26) + 97);
    else out += s[i];
  }
  return out;
}

/**
 * Finds base64 and hex payloads that decode to text, and ROT13 text, and returns one view per payload
 * (spans map back to the encoded run). Decodes nested payloads up to `depth` layers; linear in the input
 * per layer, and bounded in total output by `maxChars`.
 */
export function decodePayloads(raw: string, limits: DecodeLimits = {}): TextView[] {
  const depth = limits.depth ?? 3;
  const minRun = limits.minRun ?? 16;
  let budget = limits.maxChars ?? 65536;
  const views: TextView[] = [];
  const visit = (text: string, toRaw: (s: number, e: number) => readonly [number, number], layer: number, codecs: string) => {
    if (layer > depth || budget <= 0) return;
    // A run worth decoding spans `minRun` chars: when the char that far ahead is not base64, no such run
    // starts before it, so prose is probed about once per `minRun` chars instead of char by char.
    const span = Math.max(1, minRun);
    for (let i = 0; i + span <= text.length && budget > 0; ) {
      const probe = i + span - 1;
      if (!isB64(text.charCodeAt(probe))) {
        i = probe + 1;
        continue;
      }
      // INVARIANT: text[i - 1] is not base64 (or i is 0), so the run holding `probe` starts at or after i.
      let runStart = probe;
      while (runStart > i && isB64(text.charCodeAt(runStart - 1))) runStart--;
      let j = probe + 1;
      while (j < text.length && isB64(text.charCodeAt(j))) j++;
      if (j - runStart >= minRun) {
        let hexOnly = true;
        for (let k = runStart; k < j && hexOnly; k++) hexOnly = isHex(text.charCodeAt(k));
        const run = text.slice(runStart, j);
        const codec = hexOnly && run.length % 2 === 0 ? 'hex' : 'base64';
        const decoded = codec === 'hex' ? decodeHex(run) : decodeBase64(run);
        if (decoded !== undefined && looksLikeText(decoded)) {
          const [rs, re] = toRaw(runStart, j);
          const kept = decoded.slice(0, budget);
          budget -= kept.length;
          const kind = `decoded:${codecs}${codecs ? '+' : ''}${codec}`;
          views.push(blobView(kind, kept, rs, re));
          visit(kept, () => [rs, re], layer + 1, `${codecs}${codecs ? '+' : ''}${codec}`);
        } else if (decoded !== undefined && decoded.length >= minRun && isAllB64(decoded)) {
          // An encoding of an encoding: decode the next layer without reporting the opaque middle one.
          const [rs, re] = toRaw(runStart, j);
          visit(decoded, () => [rs, re], layer + 1, `${codecs}${codecs ? '+' : ''}${codec}`);
        }
      }
      i = j;
    }
  };
  visit(raw, (s, e) => [s, e], 1, '');
  // ROT13: only when the rotated text reads as English clearly better than the text itself.
  if (budget > 0 && raw.length >= 16) {
    const text = raw.slice(0, budget);
    const { plain: before, rotated: after } = englishHits(text);
    if (after >= 3 && after >= 3 * (before + 1)) views.push(blobView('decoded:rot13', rot13(text), 0, raw.length));
  }
  return views;
}
