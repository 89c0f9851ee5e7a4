import type { ActionKind } from '../domain/index.js';
import type { CompiledRule, RuleIndex } from './compiled.js';
import { firstSegment, foldCase, literalFirstSegment } from '../domain/glob.js';
import { ancestry } from './scope-path.js';

interface ToolBuckets {
  /** Rules whose every tool glob starts with a literal first segment, keyed by that segment. */
  bySegment: Map<string, CompiledRule[]>;
  /** Rules with no tool constraint, or a glob whose first segment has a `*`. */
  any: CompiledRule[];
}

type KindKey = ActionKind | '*';
const EMPTY: readonly CompiledRule[] = Object.freeze([]);

function bucketsFor(table: Map<string, Map<KindKey, ToolBuckets>>, scope: string, kind: KindKey): ToolBuckets {
  let kinds = table.get(scope);
  if (!kinds) table.set(scope, (kinds = new Map()));
  let b = kinds.get(kind);
  if (!b) kinds.set(kind, (b = { bySegment: new Map(), any: [] }));
  return b;
}

/**
 * Builds the rule table keyed by scope path, action kind and the tool's first name segment, so a
 * lookup touches only rules that could match: cost follows the candidates, not the set's size.
 */
export function buildRuleIndex(rules: readonly CompiledRule[]): RuleIndex {
  const table = new Map<string, Map<KindKey, ToolBuckets>>();
  for (const rule of rules) {
    const kinds: KindKey[] = rule.actions ? [...rule.actions] : ['*'];
    // Tool globs match with case folded (compile.ts), so the keys and the lookup are folded too.
    const segments = rule.toolGlobs?.map((g) => {
      const seg = literalFirstSegment(g);
      return seg === undefined ? undefined : foldCase(seg);
    });
    const wild = !segments || segments.some((s) => s === undefined);
    for (const scope of rule.scopes) {
      for (const kind of kinds) {
        const b = bucketsFor(table, scope, kind);
        if (wild) b.any.push(rule);
        else {
          for (const seg of new Set(segments as string[])) {
            const list = b.bySegment.get(seg);
            if (list) list.push(rule);
            else b.bySegment.set(seg, [rule]);
          }
        }
      }
    }
  }
  return {
    size: rules.length,
    candidates(scope, kind, toolName) {
      const seg = toolName === undefined ? undefined : foldCase(firstSegment(toolName));
      let out: CompiledRule[] | undefined;
      const add = (list: readonly CompiledRule[] | undefined) => {
        if (!list || list.length === 0) return;
        if (!out) out = [];
        for (const r of list) out.push(r);
      };
      for (const s of ancestry(scope)) {
        const kinds = table.get(s);
        if (!kinds) continue;
        for (const k of [kind, '*'] as const) {
          const b = kinds.get(k);
          if (!b) continue;
          add(b.any);
          if (seg !== undefined) add(b.bySegment.get(seg));
        }
      }
      return out ?? (EMPTY as CompiledRule[]);
    },
  };
}
