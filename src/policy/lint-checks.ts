import { canonicalHostName, isAddressLiteral, isLocalhostName, specialRange, type SourceSpan } from '../domain/index.js';
import type { Diagnostic } from './diagnostic.js';
import type { RuleDoc } from './document.js';
import { durationMs } from './duration.js';
import type { PolicyLoadOptions } from './load-options.js';

/** The longest a check may take: the call it gates is held meanwhile. */
export const MAX_CHECK_TIMEOUT_MS = 60_000;

/**
 * Why a check URL's host may not be reached, or undefined when it may: a literal address in a
 * special-purpose range, or `localhost`, unless it is on the allow-list. A DNS name passes here;
 * the check client judges every address it resolves to at request time.
 */
export function privateHostOf(url: URL, allowed: ReadonlySet<string>): string | undefined {
  const host = canonicalHostName(url.hostname) ?? url.hostname;
  if (allowed.has(host)) return undefined;
  if (isLocalhostName(host)) return 'is `localhost`';
  if (!isAddressLiteral(host)) return undefined;
  const range = specialRange(host);
  return range === undefined ? undefined : `is a ${range} address`;
}

/** The allow-list in the form hosts are compared in. */
export function allowedCheckHosts(opts: PolicyLoadOptions): ReadonlySet<string> {
  return new Set((opts.checkHosts ?? []).map((h) => canonicalHostName(h) ?? h.toLowerCase()));
}

/** Lints one rule's `checks`: URLs (scheme, credentials, private hosts), timeouts, duplicate names, checks that never run. */
export function lintChecks(rule: RuleDoc, at: (...path: (string | number)[]) => SourceSpan, allowed: ReadonlySet<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!rule.checks) return out;
  if (rule.effect === 'deny') {
    out.push({ severity: 'warning', code: 'lint/check-on-deny', message: `the status checks of deny rule \`${rule.name}\` never run: a deny needs no check`, span: at('checks'), help: 'move the checks to an allow or require_approval rule' });
  }
  const names = new Set<string>();
  for (const [i, check] of rule.checks.entries()) {
    if (names.has(check.name)) out.push({ severity: 'error', code: 'lint/duplicate-check', message: `rule \`${rule.name}\` names status check \`${check.name}\` twice`, span: at('checks', i, 'name') });
    names.add(check.name);
    let url: URL | undefined;
    try {
      url = new URL(check.url);
    } catch {
      out.push({ severity: 'error', code: 'lint/check-url', message: `status check \`${check.name}\`: \`${check.url}\` is not a URL`, span: at('checks', i, 'url'), help: 'write an absolute URL such as `https://checks.example.com/deploy`' });
    }
    if (url) {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        out.push({ severity: 'error', code: 'lint/check-url', message: `status check \`${check.name}\`: scheme \`${url.protocol.slice(0, -1)}\` is not http or https`, span: at('checks', i, 'url') });
      } else if (url.username !== '' || url.password !== '') {
        out.push({ severity: 'error', code: 'lint/check-url', message: `status check \`${check.name}\`: the URL carries credentials`, span: at('checks', i, 'url'), help: 'checks are authenticated by the `X-Warden-Signature` header; keep secrets out of policy files' });
      } else {
        const why = privateHostOf(url, allowed);
        if (why !== undefined) {
          out.push({
            severity: 'error',
            code: 'lint/check-private-address',
            message: `status check \`${check.name}\`: host \`${url.hostname}\` ${why}`,
            span: at('checks', i, 'url'),
            help: 'point the check at a public host, or allow-list this one with `WARDEN_CHECK_ALLOW_HOSTS`',
          });
        }
      }
    }
    const timeout = check.timeout === undefined ? undefined : durationMs(check.timeout);
    if (timeout !== undefined && (timeout === 0 || timeout > MAX_CHECK_TIMEOUT_MS)) {
      out.push({ severity: 'error', code: 'lint/check-timeout', message: `status check \`${check.name}\`: timeout \`${check.timeout}\` is not between 1ms and 60s`, span: at('checks', i, 'timeout') });
    }
  }
  return out;
}
