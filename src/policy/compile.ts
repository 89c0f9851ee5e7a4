import { createHash } from 'node:crypto';
import { EFFECTS, type ActionKind, type ApprovalRequirement, type CheckRequirement } from '../domain/index.js';
import { compileCel, type CelProgram } from './cel.js';
import { checkConditionShape, type ShapeProblem } from './cel-check.js';
import type { CompiledRule, PolicySet, PolicySummary, ScopeSettings } from './compiled.js';
import type { ScanMandateEntry } from './scan.js';
import { hasErrors, type Diagnostic } from './diagnostic.js';
import { compileGlobs, foldCase, type GlobMatcher } from '../domain/glob.js';
import { durationMs } from './duration.js';
import { lintDocuments } from './lint.js';
import type { PolicyLoadOptions } from './load-options.js';
import type { RuleDoc } from './document.js';
import type { Locator, ParsedPolicySource } from './parse.js';
import { buildRuleFacts } from './rule-facts.js';
import { buildRuleIndex } from './rule-index.js';
import { outermost } from './scope-path.js';

/** One policy source as read from disk (or anywhere): its name for messages and its text. */
export interface PolicySource {
  file: string;
  text: string;
}

/** Result of compiling a set: the set when no error was found, and every diagnostic either way. */
export interface CompileResult {
  set: PolicySet | undefined;
  diagnostics: Diagnostic[];
}

/**
 * The case-folding tool matcher over a name folded beforehand: the same parts the folding matcher
 * builds (split on `*`, then folded), so `m(foldCase(v)) === compileGlobs(globs, { foldCase: true })(v)`.
 * Undefined if folding ever yielded a `*` (no code point does), which the rejoin would misread.
 */
function prefoldedGlobs(globs: readonly string[]): GlobMatcher | undefined {
  const folded: string[] = [];
  for (const g of globs) {
    const parts = g.split('*').map(foldCase);
    if (parts.some((p) => p.includes('*'))) return undefined;
    folded.push(parts.join('*'));
  }
  return compileGlobs(folded);
}

/** Tool matchers (the folding one is the prefolded one after `foldCase`) and the one copy of the list. */
function toolMatchers(list: readonly string[]): { tools: GlobMatcher; toolsFolded: GlobMatcher | undefined; globs: readonly string[] } {
  const globs = Object.freeze([...list]);
  const folded = prefoldedGlobs(globs);
  if (!folded) return { tools: compileGlobs(globs, { foldCase: true }), toolsFolded: undefined, globs };
  return { tools: (v) => folded(foldCase(v)), toolsFolded: folded, globs };
}

/**
 * Builds a value once per distinct list within one load: glob lists and role lists repeat across
 * rules, and matchers and sets are pure functions of their list, so sharing them is unobservable
 * except in time and memory.
 */
function onePerList<T>(make: (list: readonly string[]) => T): (list: readonly string[] | undefined) => T | undefined {
  const made = new Map<string, T>();
  return (list) => {
    if (list === undefined) return undefined;
    const key = JSON.stringify(list);
    let v = made.get(key);
    if (v === undefined) made.set(key, (v = make(list)));
    return v;
  };
}

/**
 * The keyword from `known` equal to `value` (else `value`): a literal in the source, so the one
 * internalized string, which the evaluator's `===` compares by pointer without reading the text
 * (a string cut from a parsed file is compared character by character, a cache miss per rule).
 */
function keyword<T extends string>(value: T, known: readonly T[]): T {
  for (const k of known) if (k === value) return k;
  return value;
}
const MODES = ['enforce', 'warn', 'disabled'] as const;

function setVersion(sources: readonly PolicySource[]): string {
  const h = createHash('sha256');
  for (const s of [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    h.update(s.file).update('\0').update(s.text).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** A status check waits this long for its answer unless the rule says otherwise. */
export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** The checks of a rule as the checks stage runs them (lint has refused bad URLs and timeouts). */
function checksOf(policy: string, version: number, r: RuleDoc): readonly CheckRequirement[] | undefined {
  if (!r.checks) return undefined;
  return Object.freeze(
    r.checks.map((c) =>
      Object.freeze({
        policy,
        version,
        rule: r.name,
        name: c.name,
        url: c.url,
        timeoutMs: (c.timeout !== undefined ? durationMs(c.timeout) : undefined) ?? DEFAULT_CHECK_TIMEOUT_MS,
        onError: c.onError ?? 'deny',
        cacheMs: (c.cache !== undefined ? durationMs(c.cache) : undefined) ?? 0,
      }),
    ),
  );
}

/**
 * Compiles parsed sources into one indexed, frozen PolicySet: lint, CEL compile (errors carry
 * file:line:col), globs compiled once, rules indexed. Any error diagnostic means no set.
 */
export function compilePolicySet(parsed: readonly ParsedPolicySource[], sources: readonly PolicySource[], opts: PolicyLoadOptions = {}): CompileResult {
  const policies = parsed.flatMap((p) => p.policies);
  const settingsDocs = parsed.flatMap((p) => p.settings);
  const diagnostics: Diagnostic[] = [...parsed.flatMap((p) => p.diagnostics), ...lintDocuments(policies, settingsDocs, opts)];

  const rules: CompiledRule[] = [];
  const summaries: PolicySummary[] = [];
  const scans: ScanMandateEntry[] = [];
  // Conditions repeat across rules (a few shapes, pasted many times): each distinct source is
  // parsed and type-checked once per load. A CelProgram is a pure function of its source, so
  // sharing one between rules is unobservable except in time.
  const celBySource = new Map<string, { compiled: ReturnType<typeof compileCel>; problems: readonly ShapeProblem[] }>();
  /** The program of rule `i`'s condition, or undefined with its diagnostics pushed. */
  const condition = (source: string, rule: string, loc: Locator, i: number): CelProgram | undefined => {
    let cached = celBySource.get(source);
    if (cached === undefined) {
      const compiled = compileCel(source);
      cached = { compiled, problems: compiled.ok ? checkConditionShape(source, compiled.ast) : [] };
      celBySource.set(source, cached);
    }
    const at = (offset: number) => loc.inString(['spec', 'rules', i, 'when'], offset);
    for (const p of cached.problems) {
      diagnostics.push({ severity: 'error', code: p.code, message: `condition of rule \`${rule}\`: ${p.message}`, span: at(p.start), ...(p.help ? { help: p.help } : {}) });
    }
    const c = cached.compiled;
    if (c.ok) return cached.problems.length === 0 ? c.program : undefined;
    diagnostics.push({ severity: 'error', code: 'policy.cel_compile', message: `condition of rule \`${rule}\` does not compile: ${c.error.message}`, span: at(c.error.start) });
    return undefined;
  };
  // A document the schema refused is not compiled, but its conditions are still checked, so one
  // run reports every error rather than hiding a condition's behind a misspelled key.
  for (const { value, loc } of parsed.flatMap((p) => p.refused)) {
    const rules = (value as { spec?: { rules?: unknown } } | null)?.spec?.rules;
    if (!Array.isArray(rules)) continue;
    for (const [i, r] of rules.entries()) {
      const rule = r as { name?: unknown; when?: unknown } | null;
      if (typeof rule?.when === 'string') condition(rule.when, typeof rule.name === 'string' ? rule.name : `#${i + 1}`, loc, i);
    }
  }
  const actionSets = onePerList((l) => new Set(l as readonly ActionKind[]));
  const nameSets = onePerList((l) => new Set(l));
  const toolGlobs = onePerList(toolMatchers);
  const foldedGlobs = onePerList((l) => compileGlobs(l, { foldCase: true }));
  const exactGlobs = onePerList((l) => compileGlobs(l));
  for (const { value: doc, loc } of policies) {
    const mode = keyword(doc.metadata.mode ?? 'enforce', MODES);
    const version = doc.metadata.version ?? 1;
    const scopes = outermost(Array.isArray(doc.metadata.scope) ? doc.metadata.scope : [doc.metadata.scope]);
    summaries.push(Object.freeze({ name: doc.metadata.name, version, mode, scopes, rules: doc.spec.rules.length, file: loc.file }));
    if (doc.spec.scan && mode !== 'disabled') scans.push(Object.freeze({ policy: doc.metadata.name, scopes, excludes: doc.metadata.exclude ?? [], spec: doc.spec.scan }));
    for (const [i, r] of doc.spec.rules.entries()) {
      let when: CompiledRule['when'];
      if (r.when !== undefined) {
        when = condition(r.when, r.name, loc, i);
        if (when === undefined) continue;
      }
      // Disabled policies are still parsed and linted (so a broken one is caught before it is enabled) but never indexed.
      if (mode === 'disabled') continue;
      const m = r.match ?? {};
      const tools = toolGlobs(m.tools);
      let approval: ApprovalRequirement | undefined;
      if (r.effect === 'require_approval') {
        approval = approvalOf(doc.metadata.name, r);
      }
      rules.push(
        Object.freeze({
          // What a decision reads of every matched rule first, so it sits in the object's first cache line.
          id: rules.length,
          mode,
          effect: keyword(r.effect, EFFECTS),
          when,
          onlyScope: scopes.length === 1 ? scopes[0] : undefined,
          policy: doc.metadata.name,
          version,
          name: r.name,
          message: r.message,
          approval,
          checks: checksOf(doc.metadata.name, version, r),
          // `0ms` means no reuse, as leaving it out does.
          cacheMs: r.effect === 'allow' && r.cache !== undefined ? durationMs(r.cache) || undefined : undefined,
          scopes,
          excludes: doc.metadata.exclude ?? [],
          actions: actionSets(m.actions),
          // Tool and server names come from upstream servers, not the policy author: they match
          // with case folded, so `Delete_All` cannot slip past a `*delete_all` deny.
          servers: foldedGlobs(m.servers),
          tools: tools?.tools,
          toolsFolded: tools?.toolsFolded,
          toolGlobs: tools?.globs,
          // Resource URIs (paths are case-sensitive) and agent ids (Warden's own) match exactly.
          resources: exactGlobs(m.resources),
          agents: exactGlobs(m.agents),
          roles: nameSets(m.roles),
          whenSource: r.when,
        }),
      );
    }
  }
  if (hasErrors(diagnostics)) return { set: undefined, diagnostics };

  const settings = new Map<string, ScopeSettings>();
  for (const { value } of settingsDocs) {
    settings.set(
      value.metadata.scope,
      Object.freeze({ scope: value.metadata.scope, defaultEffect: value.spec.defaultEffect, timezone: value.spec.timezone, policyApprovals: value.spec.policyApprovals, approvals: value.spec.approvals }),
    );
  }
  const hasChecks = rules.some((r) => r.checks !== undefined && r.mode === 'enforce');
  const hasCache = rules.some((r) => r.cacheMs !== undefined && r.mode === 'enforce');
  // Sessions are read and recorded only for a set with a rule that looks at them (warn mode included: it reports).
  const readsSession = rules.some((r) => r.whenSource !== undefined && /(^|[^A-Za-z0-9_.])session\b/.test(r.whenSource));
  const set: PolicySet = Object.freeze({ rules, index: buildRuleIndex(rules), facts: buildRuleFacts(rules), settings, policies: summaries, scans, version: setVersion(sources), hasChecks, hasCache, readsSession });
  return { set, diagnostics };
}

/**
 * What a require_approval rule asks for. With neither approvers nor a confirmation named: one person
 * holding `approver` at the request's scope (lint warns). With only `confirm`, no approvers: the
 * principal's confirmation alone releases the call.
 */
function approvalOf(policy: string, r: RuleDoc): ApprovalRequirement {
  const a = r.approval;
  const named = a?.approvers?.roles !== undefined || a?.approvers?.principals !== undefined;
  const approvers = named ? { ...(a?.approvers?.roles ? { roles: a.approvers.roles } : {}), ...(a?.approvers?.principals ? { principals: a.approvers.principals } : {}) } : a?.confirm ? {} : { roles: ['approver'] };
  return {
    policy,
    rule: r.name,
    approvers,
    count: a?.count ?? 1,
    ...(a?.timeout ? { timeout: a.timeout } : {}),
    ...(a?.reuse ? { reuse: a.reuse } : {}),
    ...(a?.reauth ? { reauth: a.reauth } : {}),
    ...(a?.confirm ? { confirm: a.confirm } : {}),
  };
}
