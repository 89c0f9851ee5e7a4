import type { Finding } from '../../domain/index.js';
import type { Detector, ScanInput } from '../detector.js';
import { maskEvidence } from '../evidence.js';
import { findingIn } from '../finding.js';
import { compilePatternSet, createPatternScratch, type PatternMatch } from '../pattern-set.js';
import type { ScanScratch } from '../scan-scratch.js';
import { createEntropyScratch, hasValidTokenChecksum, shannonEntropy, type EntropyScratch } from './checksums.js';
import { credentialKey, credentialValue, keyedValues, userinfoPasswords } from './credential-keys.js';
import { GENERIC_SECRET_RULES, SECRET_RULES, type SecretRule } from './secret-rules.js';

const PLACEHOLDER = /^(?:x+|\*+|\.+|-+|_+|0+|1+|a+|changeme|password|passwd|secret|example|sample|dummy|test|redacted|placeholder|your[_-]?\w*|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%\w+%|\$\w+)$/i;

function decodeJsonPart(part: string): unknown {
  try {
    const b = part.replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b + '='.repeat((4 - (b.length % 4)) % 4))) as unknown;
  } catch {
    return undefined;
  }
}

/** Checks a rule's structure; returns the adjusted score, or undefined to drop the match. */
function check(rule: SecretRule, value: string, entropy: EntropyScratch): number | undefined {
  switch (rule.check) {
    case 'github_crc32':
      // A valid checksum makes it near certain; a failed one is still token-shaped, so it is kept lower.
      return hasValidTokenChecksum(value) ? 0.99 : shannonEntropy(value.slice(4), entropy) >= 3.5 ? 0.6 : undefined;
    case 'aws_key_id':
      return /^[A-Z2-7]+$/.test(value.slice(4)) && !/^(?:AKIA|ASIA)(?:X{16}|EXAMPLE\w*)$/.test(value) ? (value.endsWith('EXAMPLE') ? 0.3 : rule.score) : undefined;
    case 'jwt': {
      const [h, p] = value.split('.');
      const header = decodeJsonPart(h ?? '');
      const payload = decodeJsonPart(p ?? '');
      if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null) return undefined;
      if (!('alg' in header)) return undefined;
      const signed = (value.split('.')[2] ?? '').length >= 16;
      return signed ? 0.95 : 0.7;
    }
    case 'connection_string': {
      const at = value.lastIndexOf('@');
      const colon = value.indexOf(':', value.indexOf('://') + 3);
      const password = value.slice(colon + 1, at);
      if (PLACEHOLDER.test(password) || password.length < 3) return undefined;
      return rule.score;
    }
    default:
      return rule.score;
  }
}

/** The value part of `name = value`: what follows the first `:`/`=` and optional quote. */
function assignedValue(match: string): { value: string; offset: number } {
  let i = 0;
  while (i < match.length && match[i] !== '=' && match[i] !== ':') i++;
  while (i < match.length && (match[i] === '=' || match[i] === ':' || match[i] === '>' || match[i] === ' ' || match[i] === '"' || match[i] === "'" || match[i] === '`' || match[i] === '\t')) i++;
  // Bearer/basic tokens: skip the scheme word.
  const rest = match.slice(i);
  const m = /^(?:bearer|token|basic)\s+/i.exec(rest);
  const skip = m ? m[0].length : 0;
  return { value: rest.slice(skip), offset: i + skip };
}

function charClasses(s: string): number {
  return Number(/[a-z]/.test(s)) + Number(/[A-Z]/.test(s)) + Number(/[0-9]/.test(s)) + Number(/[^A-Za-z0-9]/.test(s));
}

/** Whether [start, end) overlaps one of `spans`, which are ordered and disjoint (as `matchAll` returns them): only the last one starting before `end` can. */
function overlapsAny(spans: readonly PatternMatch[], start: number, end: number): boolean {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.start < end) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && spans[lo - 1]!.end > start;
}

/** Whether [start, end) overlaps one of `spans` (any order, may overlap each other): sorted and merged once, then a binary search. */
function spanIndex(spans: Array<readonly [number, number]>): (start: number, end: number) => boolean {
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [s, e] of spans) {
    const last = merged.at(-1);
    if (last && s < last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return (start, end) => {
    let lo = 0;
    let hi = merged.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (merged[mid]![0] < end) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && merged[lo - 1]![1] > start;
  };
}

/** Score of a value under a key that names a credential (`password`, `api_key`), and under a weaker one (`auth`). */
const KEYED_SCORE = { strong: 0.85, weak: 0.7 } as const;

/** Options for the secret detector. */
export interface SecretDetectorOptions {
  /** Minimum Shannon entropy (bits/char) for a generic `key = value` assignment. @default 3.5 */
  minEntropy?: number;
}

/**
 * Finds credentials: cloud keys, VCS/CI/chat/payment/AI-provider tokens, private keys, JWTs, connection
 * strings with passwords, and high-entropy `secret = value` assignments. Checksums (GitHub/npm CRC-32)
 * and structure (JWT header, PEM END marker) are checked where a format has them.
 */
export function createSecretDetector(options: SecretDetectorOptions = {}, scratch: Partial<Pick<ScanScratch, 'patterns' | 'entropy'>> = {}): Detector {
  const patterns = scratch.patterns ?? createPatternScratch();
  const entropy = scratch.entropy ?? createEntropyScratch();
  const specific = compilePatternSet(SECRET_RULES, { scratch: patterns });
  const generic = compilePatternSet(GENERIC_SECRET_RULES, { scratch: patterns });
  const rules = new Map([...SECRET_RULES, ...GENERIC_SECRET_RULES].map((r) => [r.id, r]));
  const minEntropy = options.minEntropy ?? 3.5;
  const id = 'warden.secret';
  return {
    id,
    categories: ['secret'],
    scan(input: ScanInput): Finding[] {
      const out: Finding[] = [];
      for (const view of input.views) {
        if (view.kind !== 'raw' && !view.kind.startsWith('decoded:')) continue;
        const text = view.text;
        const hits: PatternMatch[] = specific.matchAll(text, { maxMatch: 512 }).matches;
        for (const m of hits) {
          const rule = rules.get(m.id)!;
          let end = m.end;
          if (rule.check === 'private_key') {
            const close = text.indexOf('-----END', m.end);
            end = close >= 0 ? Math.min(text.length, text.indexOf('-----', close + 8) + 5 || close + 8) : m.end;
          }
          const score = check(rule, m.value, entropy);
          if (score === undefined) continue;
          out.push(findingIn(view, { category: 'secret', type: m.id, score, start: m.start, end, detector: id, evidence: maskEvidence(m.value) }, input.path));
        }
        for (const m of generic.matchAll(text).matches) {
          const { value, offset } = assignedValue(m.value);
          const v = value.replace(/["'`,;]+$/, '');
          if (v.length < 12 || PLACEHOLDER.test(v) || /^[a-z_]+$/i.test(v) || /^[a-z]+(?:[-_.][a-z]+)+$/.test(v) || /^\$|^\{|^process\.env|^os\.environ/.test(v)) continue;
          const h = shannonEntropy(v, entropy);
          if (h < minEntropy || charClasses(v) < 2) continue;
          const start = m.start + offset;
          if (overlapsAny(hits, start, start + v.length)) continue;
          const score = Math.min(0.9, rules.get(m.id)!.score + (h - minEntropy) * 0.1);
          out.push(findingIn(view, { category: 'secret', type: m.id, score, start, end: start + v.length, detector: id, evidence: maskEvidence(v) }, input.path));
        }
        if (view.kind !== 'raw') continue;
        // Credentials named by their key: the field this text is the value of, and `key: value` pairs inside it.
        const taken = spanIndex(out.map((f) => [f.start, f.end] as const));
        const keyed = (type: string, start: number, end: number, score: number) => {
          if (!taken(start, end)) out.push(findingIn(view, { category: 'secret', type, score, start, end, detector: id, evidence: maskEvidence(text.slice(start, end)) }, input.path));
        };
        const strength = input.key !== undefined ? credentialKey(input.key) : undefined;
        const field = strength !== undefined ? credentialValue(text, strength) : undefined;
        if (strength !== undefined && field !== undefined) keyed('credential_field', field[0], field[1], KEYED_SCORE[strength]);
        for (const kv of keyedValues(text)) keyed('credential_field', kv.start, kv.end, KEYED_SCORE[credentialKey(kv.key)!]);
        for (const [s, e] of userinfoPasswords(text)) keyed('url_credentials', s, e, 0.85);
      }
      return out;
    },
  };
}
