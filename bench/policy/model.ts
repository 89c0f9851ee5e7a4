import type { ActionKind } from '../../src/domain/index.js';

/**
 * The engine-neutral description of a generated policy set. Both the Warden YAML and the Cedar
 * text are translated from this one model, so a disagreement between the engines points at an
 * engine (or a translator), never at two different inputs.
 */
export type RuleEffect = 'allow' | 'deny' | 'require_approval';

/** Conditions the generator may attach; each has a CEL and a Cedar spelling in conditions.ts. */
export type ConditionId = 'off-hours' | 'business-hours' | 'weekend' | 'production' | 'not-production' | 'high-risk' | 'production-or-high-risk';

/** One rule: `match` constraints, an optional condition and an effect. */
export interface SyntheticRule {
  name: string;
  effect: RuleEffect;
  actions?: ActionKind[];
  tools?: string[];
  roles?: string[];
  condition?: ConditionId;
}

/** One policy: attached to one or more scopes (applies there and below) minus `exclude`. */
export interface SyntheticPolicy {
  name: string;
  scopes: string[];
  exclude: string[];
  mode: 'enforce' | 'warn';
  rules: SyntheticRule[];
}

/** The whole generated set: policies plus the one default effect, set at the org root. */
export interface SyntheticPolicySet {
  policies: SyntheticPolicy[];
  defaultScope: string;
  defaultEffect: 'deny';
  ruleCount: number;
  /** Rules per attachment level (org, group, subgroup, project), for the report. */
  rulesPerLevel: Record<ScopeLevel, number>;
}

/** Depth of a scope in the org hierarchy. */
export type ScopeLevel = 'org' | 'group' | 'subgroup' | 'project';

/** A tool as the registry would describe it. */
export interface ToolSpec {
  server: string;
  name: string;
  risk: 'low' | 'medium' | 'high' | 'critical';
}

/** One sampled agent action, with everything both engines need derived up front. */
export interface SyntheticAction {
  kind: ActionKind;
  scope: string;
  principalId: string;
  roles: string[];
  tool: ToolSpec;
  /** ISO timestamp; `hour`/`weekday` are its UTC hour and lowercase weekday name. */
  time: string;
  hour: number;
  weekday: string;
  /** `args.environment`, absent in some actions on purpose (exercises `has()`). */
  environment: string | undefined;
}
