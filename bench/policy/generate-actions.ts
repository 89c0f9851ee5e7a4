import type { Rng } from '../support/rng.js';
import { ENVIRONMENTS, ROLES, TOOLS } from './catalogue.js';
import type { Org } from './org.js';
import type { SyntheticAction, SyntheticPolicy, SyntheticPolicySet } from './model.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
/** Monday 2026-11-23, 00:00 UTC: actions fall in the week that follows. */
const WEEK_START = Date.UTC(2026, 10, 23);

function descendToProject(rng: Rng, org: Org, scope: string): string {
  let s = scope;
  for (let children = org.childrenOf(s); children.length > 0; children = org.childrenOf(s)) s = rng.pick(children);
  return s;
}

/**
 * Where an action happens: 10 % below a path some policy excludes (so `exclude` is exercised),
 * 45 % below a random policy's scope (so rules get hit), 45 % on any project.
 */
function pickProject(rng: Rng, org: Org, set: SyntheticPolicySet, excluding: readonly SyntheticPolicy[]): string {
  const r = rng.next();
  if (r < 0.1 && excluding.length > 0) return descendToProject(rng, org, rng.pick(rng.pick(excluding).exclude));
  if (r < 0.55 && set.policies.length > 0) return descendToProject(rng, org, rng.pick(rng.pick(set.policies).scopes));
  return rng.pick(org.projects);
}

function pickRoles(rng: Rng): string[] {
  const r = rng.next();
  if (r < 0.05) return [];
  return rng.sample(ROLES, r < 0.75 ? 1 : 2);
}

/**
 * Samples `count` agent actions: a project (biased towards scopes that carry policies or excludes), a
 * principal with 0–2 roles, a tool, a time anywhere in one week (so hour and weekday vary), an
 * optional `args.environment`; 90 % `tool.call`, 10 % `tool.list`.
 */
export function generateActions(rng: Rng, org: Org, set: SyntheticPolicySet, count: number): SyntheticAction[] {
  const out: SyntheticAction[] = [];
  const excluding = set.policies.filter((p) => p.exclude.length > 0);
  for (let i = 0; i < count; i++) {
    const at = new Date(WEEK_START + rng.int(0, 7 * 24 * 60 - 1) * 60_000);
    out.push({
      kind: rng.chance(0.9) ? 'tool.call' : 'tool.list',
      scope: pickProject(rng, org, set, excluding),
      principalId: `user-${rng.int(1, 5000)}`,
      roles: pickRoles(rng),
      tool: rng.pick(TOOLS),
      time: at.toISOString(),
      hour: at.getUTCHours(),
      weekday: WEEKDAYS[at.getUTCDay()]!,
      environment: rng.weighted(ENVIRONMENTS).value,
    });
  }
  return out;
}
