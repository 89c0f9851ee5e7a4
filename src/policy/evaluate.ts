import type { Action, ApprovalRequirement, Decision, Effect, EvaluationError, Finding, Reason } from '../domain/index.js';
import { buildActivation } from './activation.js';
import { describeCelError } from './cel.js';
import type { CompiledRule, PolicySet, ScopeSettings } from './compiled.js';
import { strongest } from './effect.js';
import { foldCase } from '../domain/glob.js';
import type { CelProgram } from './cel.js';
import { ancestry, isUnder } from './scope-path.js';

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

/**
 * Everything in `match` except the scope, which the index (or caller) already checked.
 * `foldedTool` is `foldCase(action.tool.name)` when the caller has it, so it is folded once per decision.
 */
export function matchesStatically(rule: CompiledRule, action: Action, foldedTool?: string): boolean {
  for (const ex of rule.excludes) if (isUnder(action.scope, ex)) return false;
  if (rule.actions && !rule.actions.has(action.kind)) return false;
  if (rule.tools) {
    if (!action.tool) return false;
    const hit = foldedTool !== undefined && rule.toolsFolded ? rule.toolsFolded(foldedTool) : rule.tools(action.tool.name);
    if (!hit) return false;
  }
  if (rule.servers) {
    const server = action.tool?.server ?? action.resource?.server;
    if (server === undefined || !rule.servers(server)) return false;
  }
  if (rule.resources && (!action.resource || !rule.resources(action.resource.uri))) return false;
  if (rule.agents && (!action.agent || !rule.agents(action.agent.id))) return false;
  if (rule.roles) {
    const roles = action.principal?.roles;
    if (!roles) return false;
    let any = false;
    for (const r of roles) {
      if (rule.roles.has(r)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

/** A condition's verdict on one activation: true, false, or why it gave neither. */
export type ConditionResult = boolean | string;

/**
 * The conditions of one decision: the activation, built on first use (so a decision no condition
 * looks at builds none), and each program's result on it. Rules share a program when their
 * condition text is the same (compile.ts), and a condition is a pure function of the activation,
 * so each program runs at most once per decision.
 */
export class DecisionConditions {
  private activation: Record<string, unknown> | undefined;
  private results: Map<CelProgram, ConditionResult> | undefined;

  constructor(
    private readonly action: Action,
    private readonly now: Date | undefined,
    private readonly timezone: string,
    private readonly findings: readonly Finding[],
  ) {}

  result(program: CelProgram): ConditionResult {
    let r = this.results?.get(program);
    if (r !== undefined) return r;
    try {
      // Built inside the try: a failure to build it fails the condition, as evaluating would.
      this.activation ??= buildActivation(this.action, { now: this.now ?? new Date(), timezone: this.timezone, findings: this.findings });
      const v = program(this.activation);
      r = v === true || v === false ? v : `condition returned a ${v === null ? 'null' : typeof v}, not a bool`;
    } catch (err) {
      r = describeCelError(err);
    }
    (this.results ??= new Map()).set(program, r);
    return r;
  }
}

/** Runs a rule's condition; a failure fails closed: true for deny/require_approval, false for allow. */
export function runCondition(rule: CompiledRule, conditions: DecisionConditions): RuleOutcome {
  if (!rule.when) return MATCHED;
  const result = conditions.result(rule.when);
  if (result === true) return MATCHED;
  if (result === false) return UNMATCHED;
  const treatedAs = rule.effect !== 'allow';
  return { matched: treatedAs, error: { policy: rule.policy, version: rule.version, rule: rule.name, message: result, treatedAs } };
}

const MATCHED: RuleOutcome = Object.freeze({ matched: true });
const UNMATCHED: RuleOutcome = Object.freeze({ matched: false });

function reasonOf(rule: CompiledRule, scope: string): Reason {
  let at = rule.scopes[0]!;
  for (const s of rule.scopes) {
    if (isUnder(scope, s)) {
      at = s;
      break;
    }
  }
  return rule.message !== undefined
    ? { policy: rule.policy, version: rule.version, rule: rule.name, effect: rule.effect, message: rule.message, scope: at, mode: rule.mode }
    : { policy: rule.policy, version: rule.version, rule: rule.name, effect: rule.effect, scope: at, mode: rule.mode };
}

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

/**
 * Decides an action against a policy set; never throws. Among enforce-mode matches deny beats
 * require_approval beats allow; with none, the nearest scope default applies (deny when unset).
 * Warn-mode rules never change the effect; those that would have are listed in `warnings`.
 */
export function decide(set: PolicySet, action: Action, opts: EvaluateOptions = {}): Decision {
  return decideOver(set, action, set.index.candidates(action), opts);
}

/** The decision procedure over an explicit candidate list (the reference evaluator passes all rules). */
export function decideOver(set: PolicySet, action: Action, candidates: readonly CompiledRule[], opts: EvaluateOptions = {}): Decision {
  const settings = resolveSettings(set, action.scope);
  const findings = opts.findings ?? [];
  const conditions = new DecisionConditions(action, opts.now, settings.timezone, findings);

  const enforced: CompiledRule[] = [];
  const warned: CompiledRule[] = [];
  const failed: { id: number; error: EvaluationError }[] = [];
  const foldedTool = action.tool ? foldCase(action.tool.name) : undefined;
  for (const rule of candidates) {
    if (!matchesStatically(rule, action, foldedTool)) continue;
    const outcome = runCondition(rule, conditions);
    if (outcome.error) failed.push({ id: rule.id, error: outcome.error });
    if (!outcome.matched) continue;
    (rule.mode === 'enforce' ? enforced : warned).push(rule);
  }
  // Candidate order depends on the index; sort so the explanation is the same however rules were found.
  enforced.sort(byId);
  warned.sort(byId);
  const errors = failed.sort(byId).map((f) => f.error);

  let matchedEffect: Effect | undefined;
  for (const r of enforced) matchedEffect = matchedEffect === undefined ? r.effect : strongest(matchedEffect, r.effect);
  const effect: Effect = matchedEffect ?? settings.defaultEffect;
  const reasons: Reason[] = [];
  const approval: ApprovalRequirement[] = [];
  if (matchedEffect !== undefined) {
    for (const r of enforced) {
      if (r.effect !== effect) continue;
      reasons.push(reasonOf(r, action.scope));
      if (r.approval && effect === 'require_approval') approval.push(r.approval);
    }
  } else {
    reasons.push(
      settings.defaultFrom !== undefined
        ? { policy: 'scope-settings', version: 1, rule: 'default-effect', effect, scope: settings.defaultFrom, message: `no rule matched; the default effect of scope \`${settings.defaultFrom}\` applies` }
        : { policy: 'builtin', version: 1, rule: 'default-deny', effect, message: 'no rule matched and no scope sets a default effect, so the action is denied' },
    );
  }

  const warnings: Reason[] = [];
  for (const w of warned) {
    const wouldBe = matchedEffect !== undefined ? strongest(matchedEffect, w.effect) : w.effect;
    if (wouldBe !== effect) {
      const warning: Reason = reasonOf(w, action.scope);
      warning.wouldBe = wouldBe;
      warnings.push(warning);
    }
  }

  // Fields in this order, `errors` and `approval` only when there are some; spelled out rather
  // than spread, on the hot path.
  const copied = [...findings];
  const v = set.version;
  if (errors.length === 0) {
    if (approval.length === 0) return { effect, reasons, warnings, findings: copied, obligations: [], policySetVersion: v };
    return { effect, reasons, warnings, findings: copied, obligations: [], approval, policySetVersion: v };
  }
  if (approval.length === 0) return { effect, reasons, warnings, findings: copied, obligations: [], errors, policySetVersion: v };
  return { effect, reasons, warnings, findings: copied, obligations: [], errors, approval, policySetVersion: v };
}
