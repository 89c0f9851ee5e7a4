import { createTwoFilesPatch } from 'diff';
import { canonicalJson } from '../domain/index.js';
import { parsePolicySource, type PolicyDoc, type ScopeSettingsDoc } from '../policy/index.js';

/** What changed between two versions of a managed policy: the YAML as a unified diff, and the rules by id. */
export interface PolicyDiff {
  from: number;
  to: number;
  /** A unified diff of the two YAML texts (`---`/`+++` name the versions). */
  unified: string;
  /** `policy/rule` ids present only in `to`. */
  addedRules: string[];
  /** `policy/rule` ids present only in `from`. */
  removedRules: string[];
  /** `policy/rule` ids whose rule changed, or whose policy's scopes, exclusions or mode changed (they change what the rule covers). */
  changedRules: string[];
  /** Scopes whose `ScopeSettings` were added, removed or changed. */
  changedSettings: string[];
}

/** Each rule of a source by `policy/rule`, as canonical JSON with what its policy says about where and how it applies. */
function rulesOf(source: string): { rules: Map<string, string>; settings: Map<string, string> } {
  const parsed = parsePolicySource('', source);
  const rules = new Map<string, string>();
  for (const { value } of parsed.policies as { value: PolicyDoc }[]) {
    const m = value.metadata;
    const frame = { scope: m.scope, exclude: m.exclude ?? [], mode: m.mode ?? 'enforce', scan: value.spec.scan ?? null };
    for (const r of value.spec.rules) rules.set(`${m.name}/${r.name}`, canonicalJson({ frame, rule: r }));
  }
  const settings = new Map<string, string>();
  for (const { value } of parsed.settings as { value: ScopeSettingsDoc }[]) settings.set(value.metadata.scope, canonicalJson(value.spec));
  return { rules, settings };
}

function changedKeys(a: Map<string, string>, b: Map<string, string>): { added: string[]; removed: string[]; changed: string[] } {
  const added = [...b.keys()].filter((k) => !a.has(k)).sort();
  const removed = [...a.keys()].filter((k) => !b.has(k)).sort();
  const changed = [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k)).sort();
  return { added, removed, changed };
}

/**
 * The diff between two versions' YAML. Rules are compared by meaning (canonical JSON of the parsed
 * rule and its policy's frame), so a reformatted or re-commented file shows a text diff but no
 * changed rule. A text that does not parse contributes no rules.
 */
export function diffVersions(name: string, from: { number: number; source: string }, to: { number: number; source: string }): PolicyDiff {
  const a = rulesOf(from.source);
  const b = rulesOf(to.source);
  const rules = changedKeys(a.rules, b.rules);
  const settings = changedKeys(a.settings, b.settings);
  return {
    from: from.number,
    to: to.number,
    unified: createTwoFilesPatch(`${name}@${from.number}`, `${name}@${to.number}`, from.source, to.source, undefined, undefined, { context: 3 }),
    addedRules: rules.added,
    removedRules: rules.removed,
    changedRules: rules.changed,
    changedSettings: [...settings.added, ...settings.removed, ...settings.changed].sort(),
  };
}
