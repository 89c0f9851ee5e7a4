import type { Context, EntityJson, EntityUidJson, StatefulAuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';
import { CONDITIONS } from './catalogue.js';
import { scopeChain } from './org.js';
import type { RuleEffect, SyntheticAction, SyntheticPolicySet, SyntheticRule } from './model.js';

/**
 * How Warden concepts map to Cedar:
 * - a scope is a `Scope::"acme/g01/s02"` entity whose parent is its parent scope; the resource of a
 *   request is a `ToolCall` entity whose parent is the acting project, so `resource in Scope::"x"`
 *   means "at x or below", exactly like a policy's `metadata.scope`; `exclude` becomes `unless`;
 * - the tool is a resource attribute (`resource.tool`, `resource.risk`); globs become `like`
 *   (both treat `*` as any run of characters, dots included);
 * - roles are principal parents (`principal in Role::"developer"`); the action kind is
 *   `Action::"tool.call"`; the hour, weekday and `args` go in the context;
 * - allow -> permit, deny -> forbid; require_approval has no Cedar effect, so it becomes a forbid
 *   (it does not allow the action) whose policy id starts with `approval:`: when Cedar denies, its
 *   determining policies tell a deny (some `deny:` forbid held) from a require_approval (only
 *   `approval:` forbids held) from the default (none held);
 * - warn-mode policies never change a Warden outcome, so they are left out.
 */
export const CEDAR_MAPPING_NOTE = 'allow->permit, deny->forbid, require_approval->forbid tagged `approval:` (effect recovered from diagnostics.reason), warn mode omitted';

const EFFECT_TAG: Record<RuleEffect, string> = { allow: 'allow', deny: 'deny', require_approval: 'approval' };
const quote = (s: string) => JSON.stringify(s);
const scopeRef = (s: string) => `Scope::${quote(s)}`;
const roleRef = (r: string) => `Role::${quote(r)}`;
const actionRef = (k: string) => `Action::${quote(k)}`;

/** A Warden glob as a Cedar `like` pattern: `*` is the wildcard in both; a literal star would need `\*`. */
function likePattern(glob: string): string {
  return quote(glob);
}

function anyOf(terms: string[]): string {
  return terms.length === 1 ? terms[0]! : `(${terms.join(' || ')})`;
}

function ruleToCedar(rule: SyntheticRule, scopes: readonly string[], exclude: readonly string[]): string {
  const head: string[] = [];
  const when: string[] = [];
  if (rule.roles?.length === 1) head.push(`principal in ${roleRef(rule.roles[0]!)}`);
  else {
    head.push('principal');
    if (rule.roles) when.push(`principal in [${rule.roles.map(roleRef).join(', ')}]`);
  }
  if (!rule.actions) head.push('action');
  else if (rule.actions.length === 1) head.push(`action == ${actionRef(rule.actions[0]!)}`);
  else head.push(`action in [${rule.actions.map(actionRef).join(', ')}]`);
  if (scopes.length === 1) head.push(`resource in ${scopeRef(scopes[0]!)}`);
  else {
    head.push('resource');
    when.push(`resource in [${scopes.map(scopeRef).join(', ')}]`);
  }
  if (rule.tools) when.push(anyOf(rule.tools.map((g) => `resource.tool like ${likePattern(g)}`)));
  if (rule.condition) when.push(`(${CONDITIONS[rule.condition].cedar})`);
  const effect = rule.effect === 'allow' ? 'permit' : 'forbid';
  const whenClause = when.length > 0 ? ` when { ${when.join(' && ')} }` : '';
  const unlessClause = exclude.length > 0 ? ` unless { ${exclude.map((e) => `resource in ${scopeRef(e)}`).join(' || ')} }` : '';
  return `${effect} (${head.join(', ')})${whenClause}${unlessClause};`;
}

/** Cedar policy id for a Warden rule: `<deny|approval|allow>:<policy>/<rule>`. */
export function cedarPolicyId(policy: string, rule: SyntheticRule): string {
  return `${EFFECT_TAG[rule.effect]}:${policy}/${rule.name}`;
}

/** Translates the set into Cedar policies keyed by id (one Cedar policy per Warden rule). */
export function toCedarPolicies(set: SyntheticPolicySet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of set.policies) {
    if (p.mode !== 'enforce') continue;
    for (const r of p.rules) out[cedarPolicyId(p.name, r)] = ruleToCedar(r, p.scopes, p.exclude);
  }
  return out;
}

function uid(type: string, id: string): EntityUidJson {
  return { type, id };
}

/** The entities one request needs: the principal (roles as parents), the tool call and its scope chain. */
function requestEntities(a: SyntheticAction, callId: string): EntityJson[] {
  const chain = scopeChain(a.scope);
  const scopes: EntityJson[] = chain.map((s, i) => ({ uid: uid('Scope', s), attrs: {}, parents: i === 0 ? [] : [uid('Scope', chain[i - 1]!)] }));
  return [
    { uid: uid('User', a.principalId), attrs: {}, parents: a.roles.map((r) => uid('Role', r)) },
    { uid: uid('ToolCall', callId), attrs: { tool: a.tool.name, server: a.tool.server, risk: a.tool.risk }, parents: [uid('Scope', a.scope)] },
    ...scopes,
  ];
}

/** The Cedar request for a sampled action, against a policy set preparsed under `policySetId`. */
export function toCedarCall(a: SyntheticAction, index: number, policySetId: string): StatefulAuthorizationCall {
  const callId = `call-${index}`;
  const context: Context = { hour: a.hour, weekday: a.weekday, args: a.environment === undefined ? {} : { environment: a.environment } };
  return {
    principal: uid('User', a.principalId),
    action: uid('Action', a.kind),
    resource: uid('ToolCall', callId),
    context,
    preparsedPolicySetId: policySetId,
    entities: requestEntities(a, callId),
  };
}
