import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Finding } from '../../domain/index.js';
import type { Detector, ScanInput } from '../detector.js';
import { maskEvidence } from '../evidence.js';
import { findingIn } from '../finding.js';
import { compilePatternSet } from '../pattern-set.js';
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
  { id: 'PHONE_NUMBER', source: '(?:\\+[0-9]{1,3}[ .-]?)?(?:\\([0-9]{1,4}\\)[ .-]?)?[0-9]{2,4}(?:[ .-]?[0-9]{2,4}){1,4}(?: ?(?:x|ext\\.?) ?[0-9]{1,5})?', run: { chars: '0123456789 .-()+', core: DIGITS, min: 4 }, before: 1, after: 16 },
  { id: 'PERSON', source: '\\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Dame)\\.? [A-Z][a-z\\x{00C0}-\\x{024F}\'-]{1,30}(?: [A-Z]\\.)?(?: [A-Z][a-z\\x{00C0}-\\x{024F}\'-]{1,30}){0,2}', anchors: ['mr.', 'mr ', 'mrs', 'ms.', 'ms ', 'miss ', 'mx.', 'mx ', 'dr.', 'dr ', 'prof', 'sir ', 'madam ', 'dame '], before: 0, after: 112 },
  { id: 'PERSON_CONTEXT', source: '(?i:my name is|name:|dear|signed,|regards,|sincerely,|patient:|customer:)\\s{1,3}[A-Z][a-z\\x{00C0}-\\x{024F}\'-]{1,30}(?: [A-Z][a-z\\x{00C0}-\\x{024F}\'-]{1,30}){0,2}', anchors: ['my name is', 'name:', 'dear', 'signed,', 'regards,', 'sincerely,', 'patient:', 'customer:'], before: 0, after: 112 },
] as const;

/** The order findings are reported in: validated types first, then by offset. */
const TYPE_ORDER: Readonly<Record<string, number>> = Object.fromEntries(PII_PATTERNS.map((p, i) => [p.id, i]));

const CONTEXT_PREFIX = /^(?:my name is|name:|dear|signed,|regards,|sincerely,|patient:|customer:)\s{1,3}/i;

const PHONE_REGIONS: readonly CountryCode[] = ['US', 'GB', 'DE', 'FR', 'IL', 'IN', 'CA', 'BR', 'AU'];

/** Options for the PII detector. */
export interface PiiDetectorOptions {
  /** Regions tried for numbers without a `+` country code. @default US, GB, DE, FR, IL, IN, CA, BR, AU */
  phoneRegions?: readonly CountryCode[];
  /** Report PERSON from titles and context phrases (low precision). @default true */
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
 * CREDIT_CARD (Luhn + issuer), IBAN_CODE (mod 97), US_SSN (ranges), IP_ADDRESS, and PERSON (best effort,
 * from titles and context phrases).
 */
export function createPiiDetector(options: PiiDetectorOptions = {}): Detector {
  const set = compilePatternSet(PII_PATTERNS);
  const regions = options.phoneRegions ?? PHONE_REGIONS;
  const person = options.person ?? true;
  const id = 'warden.pii';
  // libphonenumber-js costs tens of microseconds per parse, and a number without `+` is parsed once per
  // region; the verdict is a pure function of the candidate, so repeated candidates (signatures, logs)
  // reuse it. Bounded: the cache is dropped whole when full.
  const phoneVerdicts = new Map<string, number | undefined>();
  const phoneScore = (value: string): number | undefined => {
    if (phoneVerdicts.has(value)) return phoneVerdicts.get(value);
    const score = phoneCheck(value);
    if (phoneVerdicts.size >= 1024) phoneVerdicts.clear();
    phoneVerdicts.set(value, score);
    return score;
  };
  const phoneCheck = (value: string): number | undefined => {
    const digits = value.replace(/[^0-9]/g, '').length;
    if (digits < 7 || digits > 15) return undefined;
    // Bare digit runs and dates are numbers of every other kind; only formatted numbers are tried.
    if (!/[ .()+-]/.test(value) && !value.startsWith('+')) return undefined;
    if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(value) || /^[0-9]{1,2}[./-][0-9]{1,2}[./-][0-9]{2,4}$/.test(value)) return undefined;
    if (value.startsWith('+')) return parsePhoneNumberFromString(value)?.isValid() ? 0.9 : undefined;
    for (const r of regions) if (parsePhoneNumberFromString(value, r)?.isValid()) return 0.75;
    return undefined;
  };
  return {
    id,
    categories: ['pii'],
    scan(input: ScanInput): Finding[] {
      const out: Finding[] = [];
      const view = input.views[0]!;
      const { matches } = set.matchAll(view.text);
      const add = (type: string, score: number, start: number, end: number, value: string) => {
        out.push(findingIn(view, { category: 'pii', type, score, start, end, detector: id, evidence: maskEvidence(value, 2) }, input.path));
      };
      // INVARIANT: `matchAll` resolves the patterns as one alternation, so its matches never overlap: a
      // card number is never also a phone number, and no span needs checking against those taken.
      const sorted = [...matches].sort((a, b) => TYPE_ORDER[a.id]! - TYPE_ORDER[b.id]! || a.start - b.start);
      for (const m of sorted) {
        const v = m.value;
        switch (m.id) {
          case 'EMAIL_ADDRESS':
            // `scheme://user:password@host` is a credential in a URL (the secret detector's), not an address.
            if (!v.includes('..') && !inUrlUserinfo(view.text, m.start)) add('EMAIL_ADDRESS', 0.95, m.start, m.end, v);
            break;
          case 'IBAN_CODE':
            if (ibanValid(v)) add('IBAN_CODE', 0.99, m.start, m.end, v);
            break;
          case 'CREDIT_CARD': {
            const digits = v.replace(/[^0-9]/g, '');
            if (digits.length >= 12 && digits.length <= 19 && luhnValid(digits) && cardNetworkValid(digits)) add('CREDIT_CARD', 0.95, m.start, m.end, v);
            break;
          }
          case 'US_SSN': {
            const digitsAt = v.search(/[0-9]/);
            const seps = v.slice(digitsAt).replace(/[0-9]/g, '');
            if ((seps.length === 0 || seps[0] === seps[1]) && ssnValid(v.slice(digitsAt))) add('US_SSN', seps.length === 0 ? 0.9 : 0.85, m.start + digitsAt, m.end, v);
            break;
          }
          case 'IP_ADDRESS':
          case 'IP_ADDRESS_V6':
            if (v.includes('.') ? ipv4Valid(v) : ipv6Valid(v)) add('IP_ADDRESS', v.includes('.') ? 0.85 : 0.8, m.start, m.end, v);
            break;
          case 'PHONE_NUMBER': {
            // The candidate pattern can swallow a leading space-separated group; trim and retry once.
            const s = phoneScore(v.trim());
            if (s !== undefined) add('PHONE_NUMBER', s, m.start, m.end, v);
            break;
          }
          case 'PERSON':
          case 'PERSON_CONTEXT': {
            if (!person) break;
            const nameAt = m.id === 'PERSON' ? v.indexOf(' ') + 1 : (CONTEXT_PREFIX.exec(v)?.[0].length ?? 0);
            const start = m.start + Math.max(0, nameAt);
            add('PERSON', m.id === 'PERSON' ? 0.6 : 0.5, start, m.end, v.slice(Math.max(0, nameAt)));
            break;
          }
        }
      }
      return out;
    },
  };
}
