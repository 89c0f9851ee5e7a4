import type { ActionKind } from '../../src/domain/index.js';
import type { Rng } from '../support/rng.js';
import { GLOBS, ROLES } from './catalogue.js';
import type { Org } from './org.js';
import type { ConditionId, ScopeLevel, SyntheticPolicy, SyntheticPolicySet, SyntheticRule } from './model.js';

type RuleBody = Omit<SyntheticRule, 'name'>;

interface RuleTemplate {
  id: string;
  weight: number;
  make(rng: Rng): RuleBody;
}

const CALL: ActionKind[] = ['tool.call'];
const CALL_OR_LIST: ActionKind[] = ['tool.call', 'tool.list'];

const someRoles = (rng: Rng, max: number) => rng.sample(ROLES, rng.int(1, max));
const someGlobs = (rng: Rng, from: readonly string[], max: number) => rng.sample(from, rng.int(1, max));

/**
 * The rule mix: mostly unconditional allow/deny rules on tool globs and roles; about 31 % (by
 * weight) carry a CEL condition; 12 % require approval.
 */
const TEMPLATES: readonly RuleTemplate[] = [
  { id: 'allow-role', weight: 30, make: (rng) => ({ effect: 'allow', actions: CALL, tools: someGlobs(rng, GLOBS.work, 2), roles: someRoles(rng, 2) }) },
  { id: 'allow-read', weight: 10, make: (rng) => ({ effect: 'allow', actions: CALL_OR_LIST, tools: someGlobs(rng, GLOBS.readOnly, 3) }) },
  { id: 'allow-role-all', weight: 3, make: (rng) => ({ effect: 'allow', roles: [rng.pick(['maintainer', 'operator'])] }) },
  { id: 'allow-hours', weight: 7, make: (rng) => cond({ effect: 'allow', actions: CALL, tools: someGlobs(rng, GLOBS.work, 1), roles: someRoles(rng, 1) }, 'business-hours') },
  { id: 'allow-nonprod', weight: 3, make: (rng) => cond({ effect: 'allow', actions: CALL, tools: ['db.*'], roles: someRoles(rng, 2) }, 'not-production') },
  { id: 'deny-tools', weight: 20, make: (rng) => ({ effect: 'deny', actions: CALL, tools: someGlobs(rng, GLOBS.dangerous, 2), ...(rng.chance(0.5) ? { roles: someRoles(rng, 2) } : {}) }) },
  { id: 'deny-off-hours', weight: 8, make: () => cond({ effect: 'deny', actions: CALL, tools: ['shell.*', '*.exec'], roles: ['developer'] }, 'off-hours') },
  { id: 'deny-prod', weight: 5, make: (rng) => cond({ effect: 'deny', actions: CALL, tools: ['fs.*', 'db.*'], roles: someRoles(rng, 2) }, 'production') },
  { id: 'deny-weekend', weight: 2, make: () => cond({ effect: 'deny', tools: ['deploy.*'] }, 'weekend') },
  { id: 'approve', weight: 6, make: (rng) => ({ effect: 'require_approval', actions: CALL, tools: someGlobs(rng, GLOBS.approval, 2) }) },
  { id: 'approve-risky', weight: 6, make: (rng) => cond({ effect: 'require_approval', actions: CALL, tools: [rng.pick(['deploy.*', 'db.*', 'k8s.*'])] }, rng.pick<ConditionId>(['production-or-high-risk', 'high-risk', 'production'])) },
];

function cond(body: RuleBody, condition: ConditionId): RuleBody {
  return { ...body, condition };
}

/** How many rules sit at each level: few at the org and group level, most on projects. */
export function levelBudgets(total: number): Record<ScopeLevel, number> {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));
  const org = clamp(total * 0.05, 5, 50);
  const group = clamp(total * 0.05, 0, 1000);
  const subgroup = Math.round(total * 0.1);
  return { org, group, subgroup, project: Math.max(0, total - org - group - subgroup) };
}

function pickScopes(rng: Rng, org: Org, level: ScopeLevel): string[] {
  const scope = rng.pick(org.atLevel(level));
  if (level !== 'project' || !rng.chance(0.06)) return [scope];
  // A few project policies are shared by 2–3 sibling projects: `metadata.scope` as a list.
  const parent = scope.slice(0, scope.lastIndexOf('/'));
  return rng.sample(org.childrenOf(parent), rng.int(2, 3));
}

function pickExclude(rng: Rng, org: Org, scopes: readonly string[]): string[] {
  const children = org.childrenOf(scopes[0]!);
  if (children.length === 0 || !rng.chance(0.1)) return [];
  return [rng.pick(children)];
}

function makeRules(rng: Rng, count: number): SyntheticRule[] {
  return Array.from({ length: count }, (_, i) => {
    const t = rng.weighted(TEMPLATES);
    return { name: `${t.id}-${i + 1}`, ...t.make(rng) };
  });
}

/**
 * Generates `total` rules in policies of 1–8 rules spread over the org: 5 % at the root (5 to 50
 * rules), 5 % on groups (at most 1 000), 10 % on subgroups, the rest on projects. About 2 % of
 * policies are in warn mode, 10 % of non-project policies exclude one child scope and 6 % of project
 * policies name 2–3 sibling projects.
 */
export function generatePolicySet(rng: Rng, org: Org, total: number): SyntheticPolicySet {
  const rulesPerLevel = levelBudgets(total);
  const policies: SyntheticPolicy[] = [];
  for (const level of ['org', 'group', 'subgroup', 'project'] as const) {
    let left = rulesPerLevel[level];
    while (left > 0) {
      const size = Math.min(left, rng.int(1, 8));
      left -= size;
      const scopes = pickScopes(rng, org, level);
      policies.push({
        name: `p-${String(policies.length + 1).padStart(6, '0')}`,
        scopes,
        exclude: pickExclude(rng, org, scopes),
        mode: rng.chance(0.02) ? 'warn' : 'enforce',
        rules: makeRules(rng, size),
      });
    }
  }
  return { policies, defaultScope: org.root, defaultEffect: 'deny', ruleCount: total, rulesPerLevel };
}
