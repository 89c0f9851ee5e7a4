import type { Action, ApprovalRequirement, Decision, Effect, EntityLabels, EvaluationError, Finding, Reason, SessionView } from '../domain/index.js';
import { activationVariable, type ActivationInputs } from './activation.js';
import { describeCelError, variablesRead } from './cel.js';
import type { CompiledRule, PolicySet, ScopeSettings } from './compiled.js';
import { ALLOW, DENY, EFFECT_OF_RANK, HAS_CONDITION, RANK_MASK, REQUIRE_APPROVAL, WARN, rankOf, reasonOf } from './rule-facts.js';
import { foldCase } from '../domain/glob.js';
import type { CelProgram } from './cel.js';
import { ancestry } from './scope-path.js';

/** Inputs the evaluator takes besides the action. */
export interface EvaluateOptions {
  /**
   * The time conditions see when the action carries no `context.time`. The action is taken as
   * given: the checkpoint's identify stage has already moved a time the caller may not assert to
   * `context.claimedTime`, so a caller cannot pick the hour it is judged at.
   * @default new Date()
   */
  now?: Date;
  /** Findings of the detectors that ran on this action; CEL sees them as `findings`. */
  findings?: readonly Finding[];
  /** The session the action belongs to: its earlier steps and labels; CEL sees it as `session`. */
  session?: SessionView | undefined;
  /** The live labels of the action's agent, principal and session (abuse platform); CEL sees `agent.labels` …. */
  labels?: EntityLabels | undefined;
}

/** One rule's verdict on an action: whether it matched and, if its condition failed, why. */
export interface RuleOutcome {
  matched: boolean;
  error?: EvaluationError;
}

/** Resolves each setting from the nearest ancestor scope that sets it. */
export function resolveSettings(set: PolicySet, scope: string): { defaultEffect: Effect; defaultFrom: string | undefined; timezone: string } {
  let defaultEffect: Effect | undefined;
  let defaultFrom: string | undefined;
  let timezone: string | undefined;
  const chain = ancestry(scope);
  for (let i = chain.length - 1; i >= 0 && (defaultEffect === undefined || timezone === undefined); i--) {
    const s: ScopeSettings | undefined = set.settings.get(chain[i]!);
    if (!s) continue;
    if (defaultEffect === undefined && s.defaultEffect !== undefined) {
      defaultEffect = s.defaultEffect;
      defaultFrom = s.scope;
    }
    if (timezone === undefined && s.timezone !== undefined) timezone = s.timezone;
  }
  return { defaultEffect: defaultEffect ?? 'deny', defaultFrom, timezone: timezone ?? 'UTC' };
}

export { matchesStatically } from './static-match.js';
import { matchesStatically } from './static-match.js';

/** A condition's verdict on one activation: true, false, or why it gave neither. */
export type ConditionResult = boolean | string;

/** Up to this many programs per decision, their results are found by a linear search. */
const FEW_PROGRAMS = 8;

/**
 * The conditions of one decision: the activation, each variable built when a condition first reads
 * it (so a decision no condition looks at builds none), and each program's result on it. Rules
 * share a program when their condition text is the same (compile.ts), and a condition is a pure
 * function of the activation, so each program runs at most once per decision.
 */
export class DecisionConditions {
  private activation: Record<string, unknown> | undefined;
  private inputs: ActivationInputs | undefined;
  // Programs run so far and their results, side by side: a decision usually runs one or two, so a
  // linear search beats allocating a Map; past FEW_PROGRAMS they go in a Map (no quadratic search).
  private programs: CelProgram[] | undefined;
  private results: ConditionResult[] | undefined;
  private many: Map<CelProgram, ConditionResult> | undefined;

  constructor(
    private readonly action: Action,
    private readonly now: Date | undefined,
    private readonly timezone: string,
    private readonly findings: readonly Finding[],
    private readonly session?: SessionView | undefined,
    private readonly labels?: EntityLabels | undefined,
  ) {}

  result(program: CelProgram): ConditionResult {
    const programs = this.programs;
    if (this.many !== undefined) {
      const known = this.many.get(program);
      if (known !== undefined) return known;
    } else if (programs !== undefined) {
      for (let i = 0; i < programs.length; i++) if (programs[i] === program) return this.results![i]!;
    }
    let r: ConditionResult;
    try {
      // Only the variables the program reads, each built once per decision and inside the try:
      // a failure to build one fails the condition, as evaluating would.
      const activation = (this.activation ??= {});
      for (const name of variablesRead(program)) {
        if (activation[name] === undefined) activation[name] = activationVariable(name, this.action, (this.inputs ??= { now: this.now ?? new Date(), timezone: this.timezone, findings: this.findings, session: this.session, labels: this.labels }));
      }
      const v = program(activation);
      r = v === true || v === false ? v : `condition returned a ${v === null ? 'null' : typeof v}, not a bool`;
    } catch (err) {
      r = describeCelError(err);
    }
    if (this.many !== undefined) this.many.set(program, r);
    else {
      (this.programs ??= []).push(program);
      (this.results ??= []).push(r);
      if (this.programs.length > FEW_PROGRAMS) {
        this.many = new Map();
        for (let i = 0; i < this.programs.length; i++) this.many.set(this.programs[i]!, this.results![i]!);
      }
    }
    return r;
  }
}

/** Runs a rule's condition; a failure fails closed: true for deny/require_approval, false for allow. */
export function runCondition(rule: CompiledRule, conditions: DecisionConditions): RuleOutcome {
  if (!rule.when) return MATCHED;
  const result = conditions.result(rule.when);
  if (result === true) return MATCHED;
  if (result === false) return UNMATCHED;
  return failed(rule, result);
}

/** The outcome of a rule whose condition failed with `message`: it fails closed. */
function failed(rule: CompiledRule, message: string): RuleOutcome & { error: EvaluationError } {
  const treatedAs = rule.effect !== 'allow';
  return { matched: treatedAs, error: { policy: rule.policy, version: rule.version, rule: rule.name, message, treatedAs } };
}

const MATCHED: RuleOutcome = Object.freeze({ matched: true });
const UNMATCHED: RuleOutcome = Object.freeze({ matched: false });

type Settings = ReturnType<typeof resolveSettings>;
/** At most this many scopes' settings are remembered per set. */
const MAX_CACHED_SETTINGS = 4096;
// Settings per set and scope: a set is immutable, so its resolved settings are a pure function of
// (set, scope); the inner tables are cleared at MAX_CACHED_SETTINGS and go with their set.
// INVARIANT: pure memo, bounded (value = f(set, scope), at most MAX_CACHED_SETTINGS entries per live set).
const settingsBySet = new WeakMap<PolicySet, Map<string, Settings>>();

/** `resolveSettings`, remembered per set and scope (the result is shared: read it, never change it). */
function settingsOf(set: PolicySet, scope: string): Settings {
  let bySet = settingsBySet.get(set);
  if (bySet === undefined) settingsBySet.set(set, (bySet = new Map()));
  let s = bySet.get(scope);
  if (s === undefined) {
    s = Object.freeze(resolveSettings(set, scope));
    if (bySet.size >= MAX_CACHED_SETTINGS) bySet.clear();
    bySet.set(scope, s);
  }
  return s;
}

/**
 * Decides an action against a policy set; never throws. Among enforce-mode matches deny beats
 * require_approval beats allow; with none, the nearest scope default applies (deny when unset).
 * Warn-mode rules never change the effect; those that would have are listed in `warnings`.
 */
export function decide(set: PolicySet, action: Action, opts: EvaluateOptions = {}): Decision {
  return decideMatched(set, action, set.index.matchIds(action), opts);
}

/**
 * Every rule, of either mode, that matches the action as `decide` counts a match: its `match` and
 * scope hold and its condition is true, or failed and fails closed to true (a deny or
 * require_approval rule). What `warden policy test --coverage` calls exercised; not on the hot path.
 */
export function matchingRules(set: PolicySet, action: Action, opts: EvaluateOptions = {}): CompiledRule[] {
  const settings = settingsOf(set, action.scope);
  let conditions: DecisionConditions | undefined;
  return set.index.matches(action).filter((rule) => runCondition(rule, (conditions ??= new DecisionConditions(action, opts.now, settings.timezone, opts.findings ?? [], opts.session, opts.labels))).matched);
}

/** The decision procedure over an explicit candidate list (the reference evaluator passes all rules in scope). */
export function decideOver(set: PolicySet, action: Action, candidates: readonly CompiledRule[], opts: EvaluateOptions = {}): Decision {
  const foldedTool = action.tool ? foldCase(action.tool.name) : undefined;
  const matched: number[] = [];
  for (const rule of candidates) if (matchesStatically(rule, action, foldedTool)) matched.push(rule.id);
  // Candidate order is the caller's; sort so the explanation is the same however rules were found.
  return decideMatched(set, action, matched.sort(ascending), opts);
}

const ascending = (a: number, b: number) => a - b;

/**
 * The decision over the ids of the rules that match statically (`RuleIndex.matchIds`), ascending.
 *
 * Conditions run strongest effect first, and only where the result can still show: once an
 * enforce rule of some effect matched, a weaker rule can be neither a reason nor a warning, so its
 * condition is not run (and a failure it would have had is not in `errors`). Everything listed
 * (reasons, warnings, errors, approvals) still comes in id order.
 */
function decideMatched(set: PolicySet, action: Action, ids: readonly number[], opts: EvaluateOptions): Decision {
  const settings = settingsOf(set, action.scope);
  const findings = opts.findings ?? [];
  const { bits, reasons: shared, programs } = set.facts;
  const rules = set.rules;
  const n = ids.length;

  // The strongest effect rank among enforce matches so far (-1: none), and which ranks have enforce
  // rules whose condition is still to run (a bit per rank; WARN for warn-mode rules).
  let top = -1;
  let pending = 0;
  for (let i = 0; i < n; i++) {
    const b = bits[ids[i]!]!;
    if ((b & HAS_CONDITION) !== 0) pending |= (b & WARN) !== 0 ? WARN : 1 << (b & RANK_MASK);
    else if ((b & WARN) === 0 && (b & RANK_MASK) > top) top = b & RANK_MASK;
  }

  // Per position in `ids`, for rules with a condition: whether it ran and held (`held`, one bit
  // per position, in a number while they fit), and its error, if any.
  let held = 0;
  let heldMore: Uint8Array | undefined;
  let failures: (EvaluationError | undefined)[] | undefined;
  if (pending !== 0) {
    if (n > 31) heldMore = new Uint8Array(n);
    const conditions = new DecisionConditions(action, opts.now, settings.timezone, findings, opts.session, opts.labels);
    // Strongest first; then warn-mode rules, which show only when they would have made the effect
    // different: stronger than the strongest enforce match, or, with none, other than the default.
    const fallback = rankOf(settings.defaultEffect);
    for (let pass = DENY; pass >= -1; pass--) {
      // Below the strongest match so far an enforce rule can change nothing.
      if (pass >= 0 ? (pending & (1 << pass)) === 0 || pass < top : (pending & WARN) === 0) continue;
      const want = pass >= 0 ? HAS_CONDITION | pass : HAS_CONDITION | WARN;
      const mask = pass >= 0 ? HAS_CONDITION | WARN | RANK_MASK : HAS_CONDITION | WARN;
      for (let i = 0; i < n; i++) {
        const b = bits[ids[i]!]!;
        if ((b & mask) !== want) continue;
        if (pass < 0 && (top >= 0 ? (b & RANK_MASK) <= top : (b & RANK_MASK) === fallback)) continue;
        // The program from the dense table: the rule object is read only when its condition failed.
        const result = conditions.result(programs[ids[i]!]!);
        if (result === false) continue;
        if (result !== true) {
          const outcome = failed(rules[ids[i]!]!, result);
          (failures ??= [])[i] = outcome.error;
          if (!outcome.matched) continue;
        }
        if (heldMore !== undefined) heldMore[i] = 1;
        else held |= 1 << i;
        if (pass > top) top = pass;
      }
    }
  }

  const effect: Effect = top >= 0 ? EFFECT_OF_RANK[top]! : settings.defaultEffect;
  const reasons: Reason[] = [];
  const warnings: Reason[] = [];
  let approval: ApprovalRequirement[] | undefined;
  // The shortest `cache` of the allow rules that decided; undefined once one of them sets none.
  let cacheMs = set.hasCache && top === ALLOW && findings.length === 0 ? Infinity : undefined;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const b = bits[id]!;
    if ((b & HAS_CONDITION) !== 0 && (heldMore !== undefined ? heldMore[i] === 0 : (held & (1 << i)) === 0)) continue;
    const rank = b & RANK_MASK;
    if ((b & WARN) === 0) {
      if (rank !== top) continue;
      // Shared and frozen: a reason is never changed once made.
      reasons.push(shared[id] ?? reasonOf(rules[id]!, action.scope));
      if (cacheMs !== undefined) {
        const own = rules[id]!.cacheMs;
        cacheMs = own === undefined ? undefined : Math.min(cacheMs, own);
      }
      if (rank === REQUIRE_APPROVAL) {
        const a = rules[id]!.approval;
        if (a) (approval ??= []).push(a);
      }
    } else {
      const wouldBe = EFFECT_OF_RANK[top > rank ? top : rank]!;
      if (wouldBe !== effect) {
        const warning: Reason = reasonOf(rules[id]!, action.scope);
        warning.wouldBe = wouldBe;
        warnings.push(warning);
      }
    }
  }
  if (top < 0) {
    reasons.push(
      settings.defaultFrom !== undefined
        ? { policy: 'scope-settings', version: 1, rule: 'default-effect', effect, scope: settings.defaultFrom, message: `no rule matched; the default effect of scope \`${settings.defaultFrom}\` applies` }
        : { policy: 'builtin', version: 1, rule: 'default-deny', effect, message: 'no rule matched and no scope sets a default effect, so the action is denied' },
    );
  }
  let errors: EvaluationError[] | undefined;
  if (failures !== undefined) {
    errors = [];
    for (const e of failures) if (e !== undefined) errors.push(e);
  }

  // Fields in this order, `errors` and `approval` only when there are some; spelled out rather
  // than spread, on the hot path.
  const copied = findings.length === 0 ? [] : [...findings];
  const v = set.version;
  // INVARIANT: an allow is marked reusable only when every rule that allowed it says so and no
  // condition failed; the checkpoint drops the mark again when anything later shapes the decision.
  if (errors === undefined && cacheMs !== undefined && cacheMs !== Infinity) return { effect, reasons, warnings, findings: copied, obligations: [], policySetVersion: v, cache: { ttlMs: cacheMs } };
  if (errors === undefined) {
    if (approval === undefined) return { effect, reasons, warnings, findings: copied, obligations: [], policySetVersion: v };
    return { effect, reasons, warnings, findings: copied, obligations: [], approval, policySetVersion: v };
  }
  if (approval === undefined) return { effect, reasons, warnings, findings: copied, obligations: [], errors, policySetVersion: v };
  return { effect, reasons, warnings, findings: copied, obligations: [], errors, approval, policySetVersion: v };
}
