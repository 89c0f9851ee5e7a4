import { decideReference } from '../../src/policy/index.js';
import { toCedarPolicies, cedarPolicyId } from './cedar-translate.js';
import type { Mismatch } from './compare.js';
import { encodeOutcome } from './engine.js';
import { loadWardenSet, toWardenAction, toWardenSources, wardenOutcome } from './warden-engine.js';
import type { SyntheticPolicy, SyntheticRule } from './model.js';
import { generateWorkload } from './workload.js';

/**
 * Describes mismatching actions in full: the action, both outcomes, what Warden's naive reference
 * evaluator (no index) decides, and the Warden rule and Cedar text of every rule only one engine
 * named. Regenerates the workload, so it is only called when something went wrong.
 */
export function explainMismatches(rules: number, seed: number, samples: number, mismatches: readonly Mismatch[]): string {
  const w = generateWorkload(rules, seed, samples);
  const set = loadWardenSet(toWardenSources(w.set));
  const cedar = toCedarPolicies(w.set);
  const byName = new Map<string, { p: SyntheticPolicy; r: SyntheticRule }>(w.set.policies.flatMap((p) => p.rules.map((r) => [`${p.name}/${r.name}`, { p, r }] as const)));
  const lines: string[] = [];
  for (const m of mismatches) {
    const action = w.actions[m.index]!;
    const reference = encodeOutcome(wardenOutcome(decideReference(set, toWardenAction(action), { now: new Date(action.time) })));
    lines.push(`#${m.index} (${m.kind} differs) action ${JSON.stringify(action)}`);
    lines.push(`  warden:           ${m.warden}`);
    lines.push(`  warden reference: ${reference}`);
    lines.push(`  cedar:            ${m.cedar}`);
    const [fromWarden, fromCedar] = [m.warden, m.cedar].map((o) => new Set((o.split('|')[1] ?? '').split(',').filter(Boolean)));
    const onlyOneSide = [...fromWarden!].filter((id) => !fromCedar!.has(id)).concat([...fromCedar!].filter((id) => !fromWarden!.has(id)));
    for (const id of onlyOneSide) {
      const hit = byName.get(id);
      if (!hit) continue;
      lines.push(`  rule ${id} scopes=${JSON.stringify(hit.p.scopes)} exclude=${JSON.stringify(hit.p.exclude)} mode=${hit.p.mode} ${JSON.stringify(hit.r)}`);
      lines.push(`    cedar: ${cedar[cedarPolicyId(hit.p.name, hit.r)] ?? '(not translated)'}`);
    }
  }
  return lines.join('\n');
}
