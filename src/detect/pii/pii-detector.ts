import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Finding } from '../../domain/index.js';
import type { Detector, ScanInput } from '../detector.js';
import { maskEvidence } from '../evidence.js';
import { findingIn } from '../finding.js';
import { compilePatternSet, type PatternMatch } from '../pattern-set.js';
import type { ScanScratch } from '../scan-scratch.js';
import { findPersonNames } from './person-names.js';
import { cardNetworkValid, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from './validators.js';

const DIGITS = '0123456789';

/** PII candidates; types are Presidio's entity names (exported for the prefilter tests). INVARIANT: RE2 syntax, no capturing groups. */
export const PII_PATTERNS = [
  { id: 'EMAIL_ADDRESS', source: '\\b[A-Za-z0-9._%+-]{1,}@[A-Za-z0-9-]{1,}(?:\\.[A-Za-z0-9-]{1,}){0,8}\\.[A-Za-z]{2,24}\\b', anchors: ['@'], before: 0, after: 0, left: 'token', right: 'token' },
  { id: 'IBAN_CODE', source: '\\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?\\b', run: { chars: DIGITS, min: 2 }, before: 2, after: 40 },
  { id: 'CREDIT_CARD', source: '\\b[0-9]{4}(?:[ -]?[0-9]{3,6}){1,4}\\b', run: { chars: '0123456789 -', core: DIGITS, min: 7 }, before: 0, after: 1 },
  { id: 'US_SSN', source: '\\b[0-9]{3}[- .][0-9]{2}[- .][0-9]{4}\\b|\\b(?i:ssn|social security(?: number)?)[#:\\s]{1,4}[0-9]{9}\\b', run: { chars: '0123456789 .-', core: DIGITS, min: 9 }, before: 30, after: 1 },
  { id: 'IP_ADDRESS', source: '\\b(?:[0-9]{1,3}\\.){3}[0-9]{1,3}\\b', run: { chars: '0123456789.', core: '.', min: 3 }, before: 0, after: 1 },
  { id: 'IP_ADDRESS_V6', source: '(?i:\\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\\b|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?\\b|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}\\b)', run: { chars: '0123456789abcdefABCDEF:', core: ':', min: 2 }, before: 0, after: 1 },
  { id: 'PHONE_NUMBER', source: '(?:\\+[0-9]{1,3}[ .-]?)?(?:\\([0-9]{1,4}\\)[ .-]?)?[0-9]{2,5}(?:[ .-]?[0-9]{2,8}){1,4}(?: ?(?:x|ext\\.?) ?[0-9]{1,5})?', run: { chars: '0123456789 .-()+', core: DIGITS, min: 4 }, before: 1, after: 16 },
] as const;

/** The order findings are reported in: validated types first, then by offset. */
const TYPE_ORDER: Readonly<Record<string, number>> = Object.fromEntries(PII_PATTERNS.map((p, i) => [p.id, i]));

const PHONE_REGIONS: readonly CountryCode[] = ['US', 'GB', 'DE', 'FR', 'IL', 'IN', 'CA', 'BR', 'AU'];

/** Words that say a number is a phone number when they stand right before it ("Phone:", "call me on"). */
const PHONE_BEFORE = ['phone', 'tel', 'mobile', 'mob', 'cell', 'fax', 'desk', 'office', 'call', 'reach', 'contact', 'whatsapp', 'sms', 'text', 'dial'];
/** Words that say so right after it ("… 466 3395 mobile", "…-Fax"). */
const PHONE_AFTER = ['office', 'fax', 'mobile', 'home', 'work', 'cell', 'phone', 'tel'];

/** Whether a phone word stands before `start` (no digit between, at most 16 chars) or right after `end`. */
function phoneContext(text: string, start: number, end: number): boolean {
  const head = text.slice(Math.max(0, start - 40), start).toLowerCase();
  for (const w of PHONE_BEFORE) {
    const at = head.lastIndexOf(w);
    if (at < 0 || (at > 0 && /[a-z]/.test(head[at - 1]!))) continue;
    let k = at + w.length;
    while (k < head.length && /[a-z]/.test(head[k]!)) k++;
    if (head.length - k <= 16 && !/[0-9]/.test(head.slice(k))) return true;
  }
  let i = end;
  while (i < text.length && i < end + 3 && (text[i] === ' ' || text[i] === '-' || text[i] === '(' || text[i] === ',')) i++;
  const tail = text.slice(i, i + 8).toLowerCase();
  return i > end && PHONE_AFTER.some((w) => tail.startsWith(w));
}

/** Options for the PII detector. */
export interface PiiDetectorOptions {
  /** Regions tried for numbers without a `+` country code. @default US, GB, DE, FR, IL, IN, CA, BR, AU */
  phoneRegions?: readonly CountryCode[];
  /** Report PERSON: given names from census and national lists over capitalized words (person-names.ts). @default true */
  person?: boolean;
}

/** Whether `at` follows `scheme://user:` in the same token, i.e. a match there is a URL's password and host. */
function inUrlUserinfo(text: string, at: number): boolean {
  if (text.charCodeAt(at - 1) !== 58 /* : */) return false;
  let i = at - 2;
  while (i >= 0 && i > at - 256 && !/[\s"'<>()]/.test(text[i]!)) {
    if (text.startsWith('://', i)) return true;
    i--;
  }
  return false;
}

/**
 * Finds personal data with Presidio's entity names: EMAIL_ADDRESS, PHONE_NUMBER (libphonenumber-js),
 * CREDIT_CARD (Luhn + issuer), IBAN_CODE (mod 97), US_SSN (ranges), IP_ADDRESS, and PERSON (a gazetteer of
 * given names over capitalized words, with titles and phrases such as "my name is"; see person-names.ts).
 */
export function createPiiDetector(options: PiiDetectorOptions = {}, scratch: Partial<Pick<ScanScratch, 'patterns'>> = {}): Detector {
  const set = compilePatternSet(PII_PATTERNS, { scratch: scratch.patterns });
  const regions = options.phoneRegions ?? PHONE_REGIONS;
  const person = options.person ?? true;
  const id = 'warden.pii';
  // libphonenumber-js costs tens of microseconds per parse, and a number without `+` is parsed once per
  // region; the verdict is a pure function of the candidate, so repeated candidates (signatures, logs)
  // reuse it. Bounded: the cache is dropped whole when full.
  const phoneVerdicts = new Map<string, number | undefined>();
  const phoneScore = (value: string, context: boolean): number | undefined => {
    const key = (context ? '1' : '0') + value;
    if (phoneVerdicts.has(key)) return phoneVerdicts.get(key);
    const score = phoneCheck(value, context);
    if (phoneVerdicts.size >= 1024) phoneVerdicts.clear();
    phoneVerdicts.set(key, score);
    return score;
  };
  // A number is tried when it is formatted like one; a bare digit run, or two groups ("675 6231", which is
  // as often a house number and a postcode), only after a phone word. After one, a well-formed number the
  // library rejects (made-up exchanges, national formats of regions not tried) is still reported, lower.
  const phoneCheck = (value: string, context: boolean): number | undefined => {
    const x = value.search(/[xe]/);
    const number = x < 0 ? value : value.slice(0, x).trimEnd();
    const groups = number.match(/[0-9]+/g) ?? [];
    const digits = groups.join('').length;
    if (digits < 7 || digits > 15) return undefined;
    if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(number) || /^[0-9]{1,2}[./-][0-9]{1,2}[./-][0-9]{2,4}$/.test(number)) return undefined;
    const plus = number.startsWith('+');
    if (!plus && !number.includes('(') && groups.length <= 2 && !context) return undefined;
    if (plus && parsePhoneNumberFromString(value)?.isValid()) return 0.9;
    if (!plus) for (const r of regions) if (parsePhoneNumberFromString(value, r)?.isValid()) return context ? 0.85 : 0.75;
    return context && digits <= 13 ? 0.55 : undefined;
  };
  return {
    id,
    categories: ['pii'],
    scan(input: ScanInput): Finding[] {
      const view = input.views[0]!;
      const text = view.text;
      const hits: Hit[] = [];
      // A phone number may also come as a card candidate that failed its checks ("9472 7916", "0393 1144137").
      const phone = (m: PatternMatch): Hit | undefined => {
        // Digits glued to a letter or digit are an identifier (a licence or an order number), not a phone number.
        if (/[A-Za-z0-9]/.test(text[m.start - 1] ?? ' ') || /[A-Za-z0-9]/.test(text[m.end] ?? ' ')) return undefined;
        const s = phoneScore(m.value.trim(), phoneContext(text, m.start, m.end));
        return s === undefined ? undefined : hit(m, 'PHONE_NUMBER', s);
      };
      /** The finding a candidate makes, if it passes its type's checks; `inner` candidates come from a rescan. */
      const check = (m: PatternMatch, inner: boolean): Hit | undefined => {
        const v = m.value;
        switch (m.id) {
          case 'EMAIL_ADDRESS':
            // `scheme://user:password@host` is a credential in a URL (the secret detector's), not an address.
            return !v.includes('..') && !inUrlUserinfo(text, m.start) ? hit(m, 'EMAIL_ADDRESS', 0.95) : undefined;
          case 'IBAN_CODE':
            return ibanValid(v) ? hit(m, 'IBAN_CODE', 0.99) : undefined;
          case 'CREDIT_CARD': {
            const digits = v.replace(/[^0-9]/g, '');
            if (digits.length >= 12 && digits.length <= 19 && luhnValid(digits) && cardNetworkValid(digits)) return hit(m, 'CREDIT_CARD', 0.95);
            return inner ? undefined : phone(m);
          }
          case 'US_SSN': {
            const digitsAt = v.search(/[0-9]/);
            const seps = v.slice(digitsAt).replace(/[0-9]/g, '');
            if ((seps.length === 0 || seps[0] === seps[1]) && ssnValid(v.slice(digitsAt))) return hit(m, 'US_SSN', seps.length === 0 ? 0.9 : 0.85, m.start + digitsAt);
            return undefined;
          }
          case 'IP_ADDRESS':
          case 'IP_ADDRESS_V6':
            return (v.includes('.') ? ipv4Valid(v) : ipv6Valid(v)) ? hit(m, 'IP_ADDRESS', v.includes('.') ? 0.85 : 0.8) : undefined;
          case 'PHONE_NUMBER':
            return inner ? undefined : phone(m);
        }
        return undefined;
      };
      // INVARIANT: `matchAll` resolves the patterns as one alternation, so its matches never overlap: a
      // card number is never also a phone number. A number candidate that fails its checks may have
      // swallowed PII standing after a number ("90210 536-22-1234", "0042 192.168.1.20": the phone or card
      // candidate starts at the first number), so it is matched again from its first space past its first
      // digit group, up to the next candidate, and what starts inside it is checked the same way: it
      // overlaps nothing kept. A number glued on by `.` or `-` is part of one number ("03.93.92.16.85" is
      // a phone number, not an IP address after 03), and a phone number there is as often the tail of a
      // longer one ("0688 872 49 99"), so only the checked types are taken from a rescan. Each rescan
      // starts strictly later and inside the failed span, which is short, so the retries are bounded.
      const resolve = (matches: readonly PatternMatch[], hi: number, inner: boolean) => {
        for (let k = 0; k < matches.length; k++) {
          const m = matches[k]!;
          const h = check(m, inner);
          if (h !== undefined) hits.push(h);
          else rescan(m, matches[k + 1]?.start ?? hi);
        }
      };
      const rescan = (m: PatternMatch, limit: number) => {
        // `+41 …` and `(415) …` are one phone number's format, not a number before another.
        if (m.id === 'EMAIL_ADDRESS' || m.value[0] === '+' || m.value[0] === '(') return;
        const group = /[0-9]+/.exec(m.value);
        if (group === null) return;
        const space = m.value.slice(group.index + group[0].length).search(/\s/);
        if (space < 0) return;
        const lo = m.start + group.index + group[0].length + space;
        const hi = Math.min(limit, m.end + RESCAN_REACH);
        const found: PatternMatch[] = [];
        for (const x of set.matchAll(text.slice(lo, hi)).matches) {
          const start = x.start + lo;
          const end = x.end + lo;
          // A match starts inside the failed span right after a space, and does not end on a `\b` the slice made.
          if (start >= m.end || !/\s/.test(text[start - 1]!) || (end === hi && wordAt(text, hi - 1) && wordAt(text, hi))) continue;
          found.push({ id: x.id, start, end, value: x.value });
        }
        resolve(found, hi, true);
      };
      resolve(set.matchAll(text).matches, text.length, false);
      // Validated types first, then by offset.
      hits.sort((a, b) => TYPE_ORDER[a.pattern]! - TYPE_ORDER[b.pattern]! || a.start - b.start);
      const out: Finding[] = [];
      const add = (type: string, score: number, start: number, end: number, value: string) =>
        out.push(findingIn(view, { category: 'pii', type, score, start, end, detector: id, evidence: maskEvidence(value, 2) }, input.path));
      for (const h of hits) add(h.type, h.score, h.start, h.end, h.value);
      if (person) {
        // A name inside another finding is not reported. The spans never overlap, so sorted by start their
        // ends are sorted too, and one pointer walks them as the names (sorted by start) go by.
        const spans = hits.map((h) => [h.start, h.end] as const).sort((a, b) => a[0] - b[0]);
        let t = 0;
        for (const p of findPersonNames(text)) {
          while (t < spans.length && spans[t]![1] <= p.start) t++;
          if (t < spans.length && spans[t]![0] < p.end) continue;
          add('PERSON', p.score, p.start, p.end, text.slice(p.start, p.end));
        }
      }
      return out;
    },
  };
}

/** A finding before it is built: the pattern it came from orders the findings. */
interface Hit {
  readonly pattern: string;
  readonly type: string;
  readonly score: number;
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

function hit(m: PatternMatch, type: string, score: number, start = m.start): Hit {
  return { pattern: m.id, type, score, start, end: m.end, value: m.value };
}

/** How far past a failed candidate a match found in it may reach: longer than any PII pattern but email's. */
const RESCAN_REACH = 64;

/** Whether `text[i]` is a word char of RE2's `\b` (ASCII letters, digits, `_`). */
function wordAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
