import { PERSON_ROLES } from '../domain/index.js';
import type { Diagnostic } from './diagnostic.js';
import type { PolicyDoc, ScopeSettingsDoc } from './document.js';
import { allowedCheckHosts, lintChecks } from './lint-checks.js';
import type { PolicyLoadOptions } from './load-options.js';
import type { Located } from './parse.js';
import { isUnder } from './scope-path.js';

/** The lint rules, each with a stable id; `error` rules block loading, `warning` rules do not. */
export const LINT_RULES = {
  'lint/no-matches': 'error: `matches()` backtracks on hostile input; use `re2Matches()`',
  'lint/duplicate-policy': 'error: two policies share one name',
  'lint/duplicate-rule': 'error: one policy holds two rules with the same name',
  'lint/duplicate-settings': 'error: two ScopeSettings documents for one scope',
  'lint/invalid-timezone': 'error: a ScopeSettings timezone is not an IANA zone',
  'lint/approval-on-wrong-effect': 'error: an `approval` block on a rule whose effect is not require_approval',
  'lint/exclude-covers-scope': 'error: an exclude path removes one of the policy\'s own scopes entirely',
  'lint/exclude-outside-scope': 'warning: an exclude path lies outside every scope of the policy',
  'lint/approval-missing': 'warning: a require_approval rule that names no approvers (one person holding `approver` at the scope answers)',
  'lint/approval-unknown-role': 'warning: an approval names a role no person can hold (approvers hold Warden roles: owner, admin, policy_author, approver, auditor, analyst, viewer)',
  'lint/empty-policy': 'warning: a policy without rules',
  'lint/allow-everything': 'warning: an allow rule with no match and no condition allows every action in its scopes',
  'lint/unknown-field': 'error: a condition selects a field its variable never has (`principal.rols`)',
  'lint/undeclared-value': 'error: a condition compares an enum field with a value outside its declared values (`tool.risk == "hgh"`)',
  'lint/type-mismatch': 'error: a condition uses a declared field against its type (`principal.roles == "admin"`)',
  'lint/check-private-address': 'error: a status check URL names a loopback, private or link-local address (or `localhost`) that is not allow-listed',
  'lint/check-url': 'error: a status check URL that does not parse, is not http(s), or carries credentials',
  'lint/check-timeout': 'error: a status check timeout of 0 or over 60s',
  'lint/duplicate-check': 'error: one rule names two status checks with the same name',
  'lint/check-on-deny': 'warning: status checks on a deny rule, which never run',
} as const;

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function scopesOf(doc: PolicyDoc): string[] {
  return Array.isArray(doc.metadata.scope) ? doc.metadata.scope : [doc.metadata.scope];
}

/** Checks well-formed documents for mistakes the schema cannot see; pure. */
export function lintDocuments(policies: readonly Located<PolicyDoc>[], settings: readonly Located<ScopeSettingsDoc>[], opts: PolicyLoadOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const checkHosts = allowedCheckHosts(opts);
  const names = new Map<string, Located<PolicyDoc>>();
  for (const p of policies) {
    const doc = p.value;
    const first = names.get(doc.metadata.name);
    if (first) {
      const at = first.loc.at(['metadata', 'name']);
      out.push({
        severity: 'error',
        code: 'lint/duplicate-policy',
        message: `policy \`${doc.metadata.name}\` is already defined at ${at.file}:${at.line}:${at.col}`,
        span: p.loc.at(['metadata', 'name']),
      });
    } else names.set(doc.metadata.name, p);

    const scopes = scopesOf(doc);
    for (const [i, ex] of (doc.metadata.exclude ?? []).entries()) {
      if (scopes.some((s) => isUnder(s, ex))) {
        out.push({ severity: 'error', code: 'lint/exclude-covers-scope', message: `exclude \`${ex}\` removes a whole scope of the policy`, span: p.loc.at(['metadata', 'exclude', i]), help: 'drop the scope from `metadata.scope` instead' });
      } else if (!scopes.some((s) => isUnder(ex, s))) {
        out.push({ severity: 'warning', code: 'lint/exclude-outside-scope', message: `exclude \`${ex}\` lies outside every scope of the policy and has no effect`, span: p.loc.at(['metadata', 'exclude', i]) });
      }
    }
    if (doc.spec.rules.length === 0) {
      out.push({ severity: 'warning', code: 'lint/empty-policy', message: `policy \`${doc.metadata.name}\` has no rules`, span: p.loc.at(['spec', 'rules']) });
    }
    const ruleNames = new Set<string>();
    for (const [i, rule] of doc.spec.rules.entries()) {
      const at = (...rest: (string | number)[]) => p.loc.at(['spec', 'rules', i, ...rest]);
      if (ruleNames.has(rule.name)) {
        out.push({ severity: 'error', code: 'lint/duplicate-rule', message: `rule \`${rule.name}\` appears twice in policy \`${doc.metadata.name}\``, span: at('name') });
      }
      ruleNames.add(rule.name);
      if (rule.when !== undefined) {
        const m = /(^|[^A-Za-z0-9_])matches\s*\(/.exec(rule.when);
        if (m) {
          out.push({
            severity: 'error',
            code: 'lint/no-matches',
            message: '`matches()` can take exponential time on hostile input',
            span: p.loc.inString(['spec', 'rules', i, 'when'], m.index + m[1]!.length),
            help: 'use `re2Matches()`, which runs in linear time',
          });
        }
      }
      if (rule.approval && rule.effect !== 'require_approval') {
        out.push({ severity: 'error', code: 'lint/approval-on-wrong-effect', message: `rule \`${rule.name}\` has an approval block but its effect is \`${rule.effect}\``, span: at('approval') });
      }
      if (rule.effect === 'require_approval' && !rule.approval?.approvers && !rule.approval?.confirm) {
        out.push({
          severity: 'warning',
          code: 'lint/approval-missing',
          message: `rule \`${rule.name}\` requires approval but names no approvers; one person holding \`approver\` at the request's scope will answer`,
          span: at(rule.approval ? 'approval' : 'effect'),
          help: 'add `approval: { approvers: { roles: [approver] }, count: 1 }`',
        });
      }
      for (const [j, role] of (rule.approval?.approvers?.roles ?? []).entries()) {
        if (!(PERSON_ROLES as readonly string[]).includes(role)) {
          out.push({
            // A warning: such a request is never approved, so its calls are denied on timeout (fail closed).
            severity: 'warning',
            code: 'lint/approval-unknown-role',
            message: `rule \`${rule.name}\` names approver role \`${role}\`, which no Warden credential holds, so nobody can approve through it (its calls are denied when the request times out)`,
            span: p.loc.at(['spec', 'rules', i, 'approval', 'approvers', 'roles', j]),
            help: `use one of ${PERSON_ROLES.map((r) => `\`${r}\``).join(', ')}, or name people with \`approvers.principals\``,
          });
        }
      }
      const m = rule.match;
      const unconstrained = !m || (!m.actions && !m.servers && !m.tools && !m.resources && !m.agents && !m.roles);
      if (rule.effect === 'allow' && unconstrained && rule.when === undefined) {
        out.push({ severity: 'warning', code: 'lint/allow-everything', message: `rule \`${rule.name}\` allows every action in its scopes`, span: at('effect'), help: 'use `ScopeSettings.defaultEffect: allow` if that is the intent' });
      }
      out.push(...lintChecks(rule, at, checkHosts));
    }
  }
  const seenSettings = new Map<string, Located<ScopeSettingsDoc>>();
  for (const s of settings) {
    const scope = s.value.metadata.scope;
    const first = seenSettings.get(scope);
    if (first) {
      const at = first.loc.at(['metadata', 'scope']);
      out.push({ severity: 'error', code: 'lint/duplicate-settings', message: `scope \`${scope}\` already has settings at ${at.file}:${at.line}:${at.col}`, span: s.loc.at(['metadata', 'scope']) });
    } else seenSettings.set(scope, s);
    const tz = s.value.spec.timezone;
    if (tz !== undefined && !validTimezone(tz)) {
      out.push({ severity: 'error', code: 'lint/invalid-timezone', message: `\`${tz}\` is not a known time zone`, span: s.loc.at(['spec', 'timezone']), help: 'use an IANA name such as `Europe/Berlin` or `UTC`' });
    }
  }
  return out;
}
