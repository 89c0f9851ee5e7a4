import { stringify } from 'yaml';
import type { Action, Decision } from '../../src/domain/index.js';
import { decide, loadPolicySources, type PolicySet, type PolicySource } from '../../src/policy/index.js';
import { CONDITIONS } from './catalogue.js';
import type { LoadedEngine, Outcome } from './engine.js';
import type { SyntheticAction, SyntheticPolicy, SyntheticPolicySet, SyntheticRule } from './model.js';

/** Evaluation time passed to `decide`; unused in practice, since every action carries `context.time`. */
const NOW = new Date('2026-11-23T12:00:00Z');
/** Reasons the evaluator reports when no rule matched. */
const DEFAULT_REASON_POLICIES = new Set(['scope-settings', 'builtin']);

function ruleDoc(r: SyntheticRule): Record<string, unknown> {
  const match = { ...(r.actions ? { actions: r.actions } : {}), ...(r.tools ? { tools: r.tools } : {}), ...(r.roles ? { roles: r.roles } : {}) };
  return {
    name: r.name,
    ...(Object.keys(match).length > 0 ? { match } : {}),
    ...(r.condition ? { when: CONDITIONS[r.condition].cel } : {}),
    effect: r.effect,
    ...(r.effect === 'require_approval' ? { approval: { approvers: { roles: ['approver'] }, count: 1 } } : {}),
  };
}

function policyDoc(p: SyntheticPolicy): Record<string, unknown> {
  return {
    apiVersion: 'warden.dev/v1',
    kind: 'Policy',
    metadata: {
      name: p.name,
      scope: p.scopes.length === 1 ? p.scopes[0] : p.scopes,
      ...(p.exclude.length > 0 ? { exclude: p.exclude } : {}),
      ...(p.mode !== 'enforce' ? { mode: p.mode } : {}),
      version: 1,
    },
    spec: { rules: p.rules.map(ruleDoc) },
  };
}

/** The top-level scope segment below the root (`g01`), which names the file a policy goes in. */
function fileKey(p: SyntheticPolicy): string {
  return p.scopes[0]!.split('/')[1] ?? '_org';
}

/**
 * Renders the set as Warden YAML, one file per group plus one for the org root (which also holds
 * the ScopeSettings with the default effect), the way a repository of policies would be laid out.
 */
export function toWardenSources(set: SyntheticPolicySet): PolicySource[] {
  const files = new Map<string, string[]>();
  files.set('_org', [stringify({ apiVersion: 'warden.dev/v1', kind: 'ScopeSettings', metadata: { scope: set.defaultScope }, spec: { defaultEffect: set.defaultEffect } })]);
  for (const p of set.policies) {
    const key = fileKey(p);
    const docs = files.get(key) ?? [];
    docs.push(stringify(policyDoc(p)));
    files.set(key, docs);
  }
  return [...files].map(([key, docs]) => ({ file: `policies/${key}.yaml`, text: docs.join('---\n') }));
}

/** The Warden `Action` for a sampled action, as an enforcement point would build it. */
export function toWardenAction(a: SyntheticAction): Action {
  return {
    kind: a.kind,
    scope: a.scope,
    agent: { id: 'agent-1', kind: 'coding-assistant' },
    principal: { id: a.principalId, roles: a.roles },
    tool: { server: a.tool.server, name: a.tool.name, risk: a.tool.risk },
    args: a.environment === undefined ? {} : { environment: a.environment },
    context: { time: a.time },
  };
}

/** Compiles sources with `loadPolicySources`; throws with the first diagnostics when any is an error. */
export function loadWardenSet(sources: readonly PolicySource[]): PolicySet {
  const { set, diagnostics } = loadPolicySources(sources);
  if (!set) {
    const errors = diagnostics.filter((d) => d.severity === 'error').slice(0, 5);
    throw new Error(`warden rejected the generated set: ${errors.map((d) => `${d.span.file}:${d.span.line}:${d.span.col} ${d.code} ${d.message}`).join(' | ')}`);
  }
  return set;
}

/** Converts a Warden decision into the engine-neutral outcome. */
export function wardenOutcome(d: Decision): Outcome {
  const rules = d.reasons.filter((r) => !DEFAULT_REASON_POLICIES.has(r.policy)).map((r) => `${r.policy}/${r.rule}`);
  return { effect: d.effect, rules: rules.sort(), errors: (d.errors ?? []).map((e) => `${e.policy}/${e.rule}: ${e.message}`) };
}

/** Wraps a compiled set and prepared actions as a `LoadedEngine` (the timed call is `decide`). */
export function wardenEngine(set: PolicySet, actions: readonly Action[]): LoadedEngine<Decision> {
  return {
    decide: (i) => decide(set, actions[i]!, { now: NOW }),
    outcome: wardenOutcome,
  };
}
