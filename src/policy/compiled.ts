import type { ApprovalSettingsDoc } from './document.js';
import type { Action, ActionKind, ApprovalRequirement, CheckRequirement, Effect, Reason } from '../domain/index.js';
import type { CelProgram } from './cel.js';
import type { GlobMatcher } from '../domain/glob.js';
import type { ScanMandateEntry } from './scan.js';

/** One rule, compiled: globs and CEL ready to run, frozen after compile. */
export interface CompiledRule {
  /** Position in the set, used to order reasons deterministically. */
  readonly id: number;
  readonly policy: string;
  readonly version: number;
  readonly mode: 'enforce' | 'warn';
  /** The scopes the policy is attached to (descendants of another listed scope removed). */
  readonly scopes: readonly string[];
  /** `scopes[0]` when the rule has one scope (most do): what its reasons name, without reading `scopes`. */
  readonly onlyScope: string | undefined;
  readonly excludes: readonly string[];
  readonly name: string;
  readonly effect: Effect;
  readonly message: string | undefined;
  readonly approval: ApprovalRequirement | undefined;
  /** The external status checks the rule names (`checks:`), in document order; undefined when none. */
  readonly checks: readonly CheckRequirement[] | undefined;
  /** How long an allow by this rule may be reused by an enforcement point (`cache:`), ms; undefined: never. */
  readonly cacheMs: number | undefined;
  readonly actions: ReadonlySet<ActionKind> | undefined;
  readonly servers: GlobMatcher | undefined;
  readonly tools: GlobMatcher | undefined;
  /** `tools` over a name already case-folded (`foldCase`), so one decision folds the name once. */
  readonly toolsFolded: GlobMatcher | undefined;
  readonly toolGlobs: readonly string[] | undefined;
  readonly resources: GlobMatcher | undefined;
  readonly agents: GlobMatcher | undefined;
  readonly roles: ReadonlySet<string> | undefined;
  readonly when: CelProgram | undefined;
  readonly whenSource: string | undefined;
}

/** What a `ScopeSettings` document says about a scope. */
export interface ScopeSettings {
  readonly scope: string;
  readonly defaultEffect: Effect | undefined;
  readonly timezone: string | undefined;
  /** Approvals a managed policy version at this scope needs (`policyApprovals`); undefined: inherited. */
  readonly policyApprovals?: number | undefined;
  /** How approval requests at this scope are answered (`approvals`); each field inherited when unset. */
  readonly approvals?: ApprovalSettingsDoc | undefined;
}

/** A summary line per policy, for listings and `/readyz`. */
export interface PolicySummary {
  readonly name: string;
  readonly version: number;
  readonly mode: 'enforce' | 'warn' | 'disabled';
  readonly scopes: readonly string[];
  readonly rules: number;
  readonly file: string;
}

/** Looks up the rules that could match an action; see rule-index.ts. */
export interface RuleIndex {
  /**
   * Every rule that could match the action (by scope, kind, tool name and the principal's roles),
   * each once, in no particular order; only rules whose scopes cover the action's scope.
   */
  candidates(action: Action): CompiledRule[];
  /**
   * Exactly the rules that match the action statically (scope, excludes and everything in `match`,
   * as `matchesStatically` checks it; conditions not run), each once, in id order.
   */
  matches(action: Action): readonly CompiledRule[];
  /** The ids of the rules `matches` returns, ascending (a new array): for a caller that reads per-id tables rather than rule objects. */
  matchIds(action: Action): number[];
  /** Every rule attached to the scope or one of its ancestors (excludes not applied), in id order. */
  inScope(scope: string): readonly CompiledRule[];
  readonly size: number;
}

/**
 * What a decision reads of each rule, by rule id, built once per set. In a large set the matched
 * rule objects are scattered over the heap and a decision that read each of them paid a cache miss
 * per match; these tables are dense, and a decision reads a rule object only for a rule with a
 * condition that failed, an approval or more than one scope.
 */
export interface RuleFacts {
  /** Per rule id: the effect's rank (rule-facts.ts `rankOf`) in bits 0–1, and the `WARN` and `HAS_CONDITION` bits. */
  readonly bits: Uint8Array;
  /**
   * Per rule id: the reason the rule gives, frozen and shared by every decision it appears in, for
   * a rule attached to one scope (the reason names that scope whatever the action's); undefined
   * for a rule attached to several, whose reason depends on the action's scope (rule-facts.ts `reasonOf`).
   */
  readonly reasons: readonly (Readonly<Reason> | undefined)[];
  /** Per rule id: its condition's program (`CompiledRule.when`), undefined for a rule without one. */
  readonly programs: readonly (CelProgram | undefined)[];
}

/** A compiled, indexed, immutable set of policies: what the evaluator runs against. */
export interface PolicySet {
  readonly rules: readonly CompiledRule[];
  readonly index: RuleIndex;
  readonly settings: ReadonlyMap<string, ScopeSettings>;
  readonly policies: readonly PolicySummary[];
  /** Scan sections of enforce- and warn-mode policies; scanning observes, so both modes count. */
  readonly scans: readonly ScanMandateEntry[];
  /** What a decision reads of each rule, by id. */
  readonly facts: RuleFacts;
  /** Content hash of the sources, so an audit event names exactly which set decided. */
  readonly version: string;
  /** Whether an enforce-mode rule names status checks: when none does, a decision looks for none. */
  readonly hasChecks: boolean;
  /** Whether an enforce-mode allow rule sets `cache`: only then does a decision look for a cache lifetime. */
  readonly hasCache: boolean;
  /** Whether a rule's condition reads `session`: only then is the session's history read and kept. */
  readonly readsSession: boolean;
}
