import type { Detector, TextView } from '../detector.js';
import { createRuleDetector, type Rule } from '../rule-detector.js';
import type { ScanScratch } from '../scan-scratch.js';
import { createEntropyScratch, shannonEntropy } from '../secrets/checksums.js';
import { commandAllowed } from './destinations.js';
import { hostOf, longestDataPart, urlAllowed } from './hosts.js';

/** Options for the exfiltration detector. */
export interface ExfiltrationDetectorOptions {
  /** Hosts (and their subdomains) that images and links may point to freely. @default [] */
  allowedHosts?: readonly string[];
}

// INVARIANT: RE2 syntax, no capturing groups.
/** The exfiltration rules (exported for the prefilter tests). */
export const EXFIL_RULES: readonly Rule[] = [
  { id: 'md_image', type: 'markdown_image', source: '!\\[[^\\]\\n]{0,}\\]\\(\\s{0,4}<?(?:https?:)?[/\\\\]{2}[^\\s)>]{1,}', score: 0.6, anchors: [']('], before: 2, after: 13, left: 'line', right: 'token' },
  { id: 'html_image', type: 'html_image', source: '(?i)<(?:img|image|iframe|script|link|source|video|audio)\\b[^>]{0,}(?:src|href|srcset)\\s{0,2}=\\s{0,2}["\']?(?:https?:)?[/\\\\]{2}[^\\s"\'>]{1,}', score: 0.6, anchors: ['<img', '<image', '<iframe', '<script', '<link', '<source', '<video', '<audio'], before: 0, after: 1024 },
  { id: 'md_link', type: 'markdown_link', source: '\\]\\(\\s{0,4}<?https?:[/\\\\]{2}[^\\s)>]{1,}', score: 0.3, anchors: [']('], before: 0, after: 13, right: 'token' },
  { id: 'md_ref_image', type: 'markdown_image', source: '(?m)^\\s{0,3}\\[[^\\]\\n]{1,}\\]:\\s{1,4}https?://[^\\s]{1,}', score: 0.5, anchors: [']:'], before: 2, after: 12, left: 'line', lead: 3, right: 'token' },
  {
    id: 'send_to',
    type: 'send_instruction',
    source: '(?i)\\b(?:send|post|upload|forward|transmit|e-?mail|exfiltrate|leak|submit|deliver|copy|paste|append|include)\\b[^\\n]{0,}\\b(?:to|into|at|via)\\s{1,3}(?:https?://[^\\s]{1,}|[A-Za-z0-9._%+-]{1,}@[A-Za-z0-9.-]{1,}\\.[A-Za-z]{2,24}|(?:this|the|my|our|a) (?:webhook|endpoint|url|server))',
    score: 0.55,
    anchors: ['http', '@', 'webhook', 'endpoint', 'url', 'server'], also: ['send', 'post', 'upload', 'forward', 'transmit', 'mail', 'exfiltrate', 'leak', 'submit', 'deliver', 'copy', 'paste', 'append', 'include'], before: 24, after: 16, left: 'line', right: 'token',
  },
  { id: 'http_upload', type: 'command_upload', source: '(?i)\\b(?:curl|wget|Invoke-WebRequest|Invoke-RestMethod|iwr|irm|http|httpie)\\b[^\\n]{0,}(?:\\s-d\\b|--data|--data-binary|--data-raw|--data-urlencode|\\s-F\\b|--form|--upload-file|\\s-T\\b|--post-data|--post-file|-X\\s{1,3}(?:POST|PUT)|-Method\\s{1,3}(?:Post|Put)|-Body|-InFile)[^\\n]{0,}', score: 0.6, anchors: ['-d', '-f', '-t', '-x', '-method', '-body', '-infile', '--post-'], before: 0, after: 0, left: 'line', right: 'line' },
  { id: 'pipe_out', type: 'command_upload', source: '(?i)(?:\\$\\(\\s{0,2}(?:cat|env|printenv|base64)\\b[^)\\n]{0,}\\)|`(?:cat|env|printenv)\\b[^`\\n]{0,}`|\\|\\s{0,2}(?:nc|ncat|netcat|curl|wget)\\b)[^\\n]{0,}', score: 0.65, anchors: ['$(', '`', '|'], before: 0, after: 0, right: 'line' },
];

// Where a URL starts inside a larger text: `//` (or `\\`) at the start or after a scheme, `=`, quote or bracket.
const URL_START = /(?:^|[\s:="'(<,])[/\\]{2}/g;

// The whole HTML tag a match starts (up to its `>`): an allowed `src` must not hide a `srcset` or `style` URL.
function tagAt(view: TextView, start: number, end: number): string {
  const close = view.text.indexOf('>', end);
  return view.text.slice(start, close < 0 ? Math.min(view.text.length, end + 4096) : close);
}

/**
 * True when every URL in `text` goes to an allowed host, read both as written (HTML: `\\` ends the
 * host) and with markdown's backslash escapes removed (`docs.example.com\\.evil.example`). Browsers
 * drop tabs and newlines inside URLs, so those are removed first.
 */
function everyUrlAllowed(text: string, allowed: readonly string[]): boolean {
  const forms = [text, text.replace(/\\([!-/:-@[-`{-~])/g, '$1')].map((t) => t.replace(/[\t\n\r]/g, ''));
  return forms.every((t) => {
    const starts = [...t.matchAll(URL_START)].map((m) => m.index + m[0].length - 2);
    return starts.length > 0 && starts.every((at) => urlAllowed(t.slice(at), allowed));
  });
}

// `.env` has no word boundary before its dot when it follows `@` or a space (`curl -d @.env`), so it stands apart.
const SENSITIVE = /\b(?:conversation|chat|history|password|passwd|secret|token|api[ _-]?key|credential|private|ssh|cookie|session|system prompt|summary|data|file|contents?|memory|email)|\.env\b/i;

/**
 * Finds data leaving through the output: markdown/HTML images and links to hosts outside the allow-list
 * (more when the URL carries a data-bearing path or query), "send this to <url|e-mail>" instructions,
 * and shell commands that upload data (`curl -d`, `| nc`).
 */
export function createExfiltrationDetector(options: ExfiltrationDetectorOptions = {}, scratch: Partial<Pick<ScanScratch, 'patterns' | 'entropy'>> = {}): Detector {
  const allowed = (options.allowedHosts ?? []).map((h) => h.toLowerCase());
  const entropy = scratch.entropy ?? createEntropyScratch();
  return createRuleDetector({
    id: 'warden.exfiltration',
    category: 'exfiltration',
    rules: EXFIL_RULES,
    views: 'raw',
    refine(m, rule, view) {
      if (rule.id === 'send_to') return SENSITIVE.test(m.value) ? 0.8 : rule.score;
      if (rule.id === 'http_upload' || rule.id === 'pipe_out') {
        if (allowed.length > 0 && commandAllowed(m.value, allowed)) return undefined;
        return SENSITIVE.test(m.value) || m.value.includes('$') ? rule.score + 0.2 : rule.score;
      }
      const url = m.value.slice(m.value.search(/(?:https?:)?[/\\]{2}/));
      if (hostOf(url) === undefined) return undefined;
      if (allowed.length > 0 && everyUrlAllowed(rule.id === 'html_image' ? tagAt(view, m.start, m.end) : m.value, allowed)) return undefined;
      const data = longestDataPart(url);
      // A long, high-entropy or templated path/query value is how a rendered image smuggles data out.
      const bearing = data.length >= 24 && shannonEntropy(data, entropy) >= 3.5;
      const templated = /[{}$]|%7B|%24/i.test(url);
      if (bearing || templated) return rule.id === 'md_link' ? 0.7 : 0.9;
      return rule.score;
    },
  }, scratch);
}
