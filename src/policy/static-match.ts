import type { Action } from '../domain/index.js';
import type { CompiledRule } from './compiled.js';
import { isUnder } from './scope-path.js';

/**
 * Everything in `match` except the scope, which the index (or caller) already checked.
 * `foldedTool` is `foldCase(action.tool.name)` when the caller has it, so it is folded once per decision.
 */
export function matchesStatically(rule: CompiledRule, action: Action, foldedTool?: string): boolean {
  for (const ex of rule.excludes) if (isUnder(action.scope, ex)) return false;
  return matchesMatch(rule, action, foldedTool);
}

/** `matchesStatically` without the excludes: what the rule's `match` says (for a caller that checked the excludes). */
export function matchesMatch(rule: CompiledRule, action: Action, foldedTool?: string): boolean {
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
