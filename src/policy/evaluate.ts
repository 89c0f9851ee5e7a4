import type { Action, ApprovalRequirement, Decision, Effect, EvaluationError, Finding, Reason } from '../domain/index.js';
import { buildActivation } from './activation.js';
import { describeCelError } from './cel.js';
import type { CompiledRule, PolicySet, ScopeSettings } from './compiled.js';
import { combine } from './effect.js';
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
    if (!roles || !roles.some((r) => rule.roles!.has(r))) return false;
  }
  return true;
}

/** A condition's verdict on one activation: true, false, or why it gave neither. */
export type ConditionResult = boolean | string;

function evaluateCondition(program: CelProgram, activation: Record<string, unknown>): ConditionResult {
  try {
    const v = program(activation);
    if (v === true || v === false) return v;
    return `condition returned a ${v === null ? 'null' : typeof v}, not a bool`;
  } catch (err) {
    return describeCelError(err);
  }
}

/**
 * Runs a rule's condition; a failure fails closed: true for deny/require_approval, false for allow.
 * `memo` keeps each program's result for this one activation: rules share a program when their
 * conditions are the same text (compile.ts), and a condition is a pure function of the activation.
 */
export function runCondition(rule: CompiledRule, activation: () => Record<string, unknown>, memo?: Map<CelProgram, ConditionResult>): RuleOutcome {
  if (!rule.when) return { matched: true };
  let result = memo?.get(rule.when);
  if (result === undefined) {
    result = evaluateCondition(rule.when, activation());
    memo?.set(rule.when, result);
  }
  if (result === true) return { matched: true };
  if (result === false) return { matched: false };
  const message = result;
  const treatedAs = rule.effect !== 'allow';
  return { matched: treatedAs, error: { policy: rule.policy, version: rule.version, rule: rule.name, message, treatedAs } };
}

function reasonOf(rule: CompiledRule, scope: string): Reason {
  return {
    policy: rule.policy,
    version: rule.version,
    rule: rule.name,
    effect: rule.effect,
    ...(rule.message !== undefined ? { message: rule.message } : {}),
    scope: rule.scopes.find((s) => isUnder(scope, s)) ?? rule.scopes[0]!,
    mode: rule.mode,
  };
}

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
  let activation: Record<string, unknown> | undefined;
  const lazyActivation = () => (activation ??= buildActivation(action, { now: opts.now ?? new Date(), timezone: settings.timezone, findings }));

  const enforced: CompiledRule[] = [];
  const warned: CompiledRule[] = [];
  const failed: { id: number; error: EvaluationError }[] = [];
  const foldedTool = action.tool ? foldCase(action.tool.name) : undefined;
  let memo: Map<CelProgram, ConditionResult> | undefined;
  for (const rule of candidates) {
    if (!matchesStatically(rule, action, foldedTool)) continue;
    if (rule.when) memo ??= new Map();
    const outcome = runCondition(rule, lazyActivation, memo);
    if (outcome.error) failed.push({ id: rule.id, error: outcome.error });
    if (!outcome.matched) continue;
    (rule.mode === 'enforce' ? enforced : warned).push(rule);
  }
  enforced.sort((a, b) => a.id - b.id);
  warned.sort((a, b) => a.id - b.id);
  // Candidate order depends on the index; sort so the explanation is the same however rules were found.
  const errors = failed.sort((a, b) => a.id - b.id).map((f) => f.error);

  const matchedEffect = combine(enforced.map((r) => r.effect));
  const effect: Effect = matchedEffect ?? settings.defaultEffect;
  let reasons: Reason[];
  if (matchedEffect !== undefined) {
    reasons = enforced.filter((r) => r.effect === effect).map((r) => reasonOf(r, action.scope));
  } else {
    reasons = [
      settings.defaultFrom !== undefined
        ? { policy: 'scope-settings', version: 1, rule: 'default-effect', effect, scope: settings.defaultFrom, message: `no rule matched; the default effect of scope \`${settings.defaultFrom}\` applies` }
        : { policy: 'builtin', version: 1, rule: 'default-deny', effect, message: 'no rule matched and no scope sets a default effect, so the action is denied' },
    ];
  }

  const warnings: Reason[] = [];
  for (const w of warned) {
    const wouldBe = combine([...(matchedEffect !== undefined ? [matchedEffect] : []), w.effect]) ?? effect;
    if (wouldBe !== effect) warnings.push({ ...reasonOf(w, action.scope), wouldBe });
  }

  const approval: ApprovalRequirement[] =
    effect === 'require_approval' ? enforced.filter((r) => r.effect === 'require_approval' && r.approval).map((r) => r.approval!) : [];

  return {
    effect,
    reasons,
    warnings,
    findings: [...findings],
    obligations: [],
    ...(errors.length > 0 ? { errors } : {}),
    ...(approval.length > 0 ? { approval } : {}),
    policySetVersion: set.version,
  };
}
