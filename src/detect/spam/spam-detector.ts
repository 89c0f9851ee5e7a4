import type { Finding } from '../../domain/index.js';
import type { Detector, ScanInput } from '../detector.js';
import { excerpt, severityFor } from '../evidence.js';
import { findingIn } from '../finding.js';
import { hostOf } from '../exfil/hosts.js';
import { compilePatternSet, type PatternDef } from '../pattern-set.js';
import type { ScanScratch } from '../scan-scratch.js';

/** The spam detector's patterns (exported for the prefilter tests). */
export const SPAM_PATTERNS: readonly PatternDef[] = [
  { id: 'url', source: '(?i)\\bhttps?://[^\\s<>"\')\\]]{1,}', anchors: ['http'], before: 0, after: 8, right: 'token' },
  { id: 'mention', source: '(?:^|[\\s(,])@[A-Za-z0-9][A-Za-z0-9_-]{0,38}\\b', anchors: ['@'], before: 1, after: 48 },
  { id: 'punycode', source: '(?i)\\bxn--[a-z0-9-]{1,}(?:\\.[a-z0-9-]{1,}){1,4}\\b', anchors: ['xn--'], before: 0, after: 8, right: 'token' },
];

const BRANDS = ['paypal', 'google', 'microsoft', 'apple', 'amazon', 'facebook', 'netflix', 'github', 'gitlab', 'openai', 'anthropic', 'binance', 'coinbase', 'metamask', 'instagram', 'linkedin', 'twitter', 'dropbox', 'stripe', 'npmjs', 'pypi', 'docker'];
const LOOK: Readonly<Record<string, string>> = { '0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', rn: 'm', vv: 'w' };

function foldLookalike(label: string): string {
  return label.replace(/rn|vv|[0134578]/g, (c) => LOOK[c] ?? c);
}

/** Options for the spam detector. */
export interface SpamDetectorOptions {
  /** URLs in one text at or above which it is a link farm. @default 10 */
  maxLinks?: number;
  /** Distinct @-mentions at or above which it is bulk mentioning. @default 10 */
  maxMentions?: number;
}

/**
 * Finds spam in content an agent posts: link farms, repeated lines, bulk @-mentions, punycode and
 * lookalike domains (`paypa1.com`, Cyrillic letters in a host).
 */
export function createSpamDetector(options: SpamDetectorOptions = {}, scratch: Partial<Pick<ScanScratch, 'patterns'>> = {}): Detector {
  const patterns = compilePatternSet(SPAM_PATTERNS, { scratch: scratch.patterns });
  const maxLinks = options.maxLinks ?? 10;
  const maxMentions = options.maxMentions ?? 10;
  const id = 'warden.spam';
  return {
    id,
    categories: ['spam'],
    scan(input: ScanInput): Finding[] {
      const out: Finding[] = [];
      const view = input.views[0]!;
      const text = view.text;
      const push = (type: string, score: number, start: number, end: number, evidence: string) =>
        out.push(findingIn(view, { category: 'spam', type, score, start, end, detector: id, evidence, severity: severityFor(score) }, input.path));
      const { matches } = patterns.matchAll(text, { maxMatches: 5000 });
      const urls = matches.filter((m) => m.id === 'url');
      const mentions = new Set(matches.filter((m) => m.id === 'mention').map((m) => m.value.trim().toLowerCase()));
      if (urls.length >= maxLinks) {
        const hosts = new Set(urls.map((u) => hostOf(u.value)));
        const share = urls.reduce((n, u) => n + u.value.length, 0) / Math.max(1, text.length);
        const score = Math.min(0.95, 0.55 + (urls.length >= 2 * maxLinks ? 0.2 : 0) + (share > 0.3 ? 0.15 : 0) + (hosts.size >= 5 ? 0.05 : 0));
        push('link_farm', score, urls[0]!.start, urls[urls.length - 1]!.end, `${urls.length} links to ${hosts.size} hosts`);
      }
      if (mentions.size >= maxMentions) {
        const ms = matches.filter((m) => m.id === 'mention');
        push('bulk_mentions', mentions.size >= 2.5 * maxMentions ? 0.85 : 0.65, ms[0]!.start, ms[ms.length - 1]!.end, `${mentions.size} distinct mentions`);
      }
      for (const m of matches.filter((x) => x.id === 'punycode')) push('punycode_domain', 0.6, m.start, m.end, excerpt(m.value));
      for (const u of urls) {
        const host = hostOf(u.value);
        if (host === undefined) continue;
        for (const label of host.split('.')) {
          const folded = foldLookalike(label);
          if (folded !== label && BRANDS.includes(folded)) push('lookalike_domain', 0.8, u.start, u.end, excerpt(host));
        }
      }
      for (const mk of input.marks) if (mk.kind === 'homoglyphs' && urls.some((u) => u.start <= mk.start && mk.end <= u.end)) push('lookalike_domain', 0.85, mk.start, mk.end, 'mixed-script letters in a link');
      // Repetition: the same non-trivial line many times.
      const lines = new Map<string, { n: number; start: number; end: number }>();
      let pos = 0;
      for (const line of text.split('\n')) {
        const key = line.trim();
        if (key.length >= 8) {
          const e = lines.get(key);
          if (e) {
            e.n++;
            e.end = pos + line.length;
          } else lines.set(key, { n: 1, start: pos, end: pos + line.length });
        }
        pos += line.length + 1;
      }
      for (const [key, e] of lines) if (e.n >= 5) push('repetition', e.n >= 20 ? 0.85 : 0.65, e.start, e.end, `${e.n}× "${excerpt(key, 40)}"`);
      return out;
    },
  };
}
