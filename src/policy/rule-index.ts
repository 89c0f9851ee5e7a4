import { ACTION_KINDS, type Action, type ActionKind } from '../domain/index.js';
import { foldCase } from '../domain/glob.js';
import type { CompiledRule, RuleIndex } from './compiled.js';
import { ancestry } from './scope-path.js';

/*
 * How a lookup narrows (each step keeps every rule that could match, see index-contract.test.ts):
 *
 * 1. Scope: rules are filed under each scope they are attached to; a lookup visits only the index
 *    nodes on the action's scope's ancestry, found once per scope string and cached.
 * 2. Tool: within a node, rules are grouped by key. Each tool glob gets one key from its
 *    case-folded literal parts: the whole name when it has no `*`, else the part before the first
 *    `*` (a prefix), else the part after the last `*` (a suffix), else the residual key every tool
 *    hits (`*`, `*.read*`). A tool name is turned into the keys it hits once and cached, and a
 *    lookup reads only those groups, plus the group of rules without a tool constraint.
 * 3. Kind: each entry carries a bit per action kind it is limited to (all bits without `actions`).
 * 4. Roles: an entry limited to roles carries a bit per role; a lookup drops it unless the principal
 *    holds one of them (roles past the 28th share one bit that any unknown role sets).
 *
 * What remains is checked in full by the evaluator (`matchesStatically`), so the index may keep a
 * rule that does not match but never drop one that does. It never returns a rule whose scopes do
 * not cover the action's scope: the evaluator does not check that again.
 */

/** Key of the rules without a tool constraint: visited for every action. */
const NO_TOOL = 0;
/** Key every tool name hits: globs with no literal prefix or suffix. */
const RESIDUAL = 1;
/** At most this many scope strings and tool names are remembered per index, each. */
const MAX_CACHED = 4096;
/** Longer tool names are resolved each time rather than kept as cache keys. */
const MAX_CACHED_NAME = 512;
// Masks stay below 2^30 so they are small integers: 28 named role bits, one shared by the other
// roles, one set for every principal and on every rule without roles (which thus always passes).
const NAMED_ROLE_BITS = 28;
const OTHER_ROLES = 1 << NAMED_ROLE_BITS;
const ALWAYS = 1 << (NAMED_ROLE_BITS + 1);
/** Kind slots: one per action kind, the last for kinds the schema does not know. */
const KIND_SLOTS = ACTION_KINDS.length + 1;
const ANY_KIND = (1 << KIND_SLOTS) - 1;
const EMPTY: readonly CompiledRule[] = Object.freeze([]);
const NO_TOOL_KEYS: readonly number[] = Object.freeze([NO_TOOL]);

/**
 * What is filed under one scope path, grouped by key: the rules of `keys[g]` are
 * `rules[starts[g]]` up to `rules[starts[g + 1]]` (or the end), with a kind mask and a role mask each.
 */
interface ScopeNode {
  readonly keys: readonly number[];
  readonly starts: readonly number[];
  readonly rules: readonly CompiledRule[];
  readonly kinds: readonly number[];
  readonly roles: readonly number[];
  /** Every rule attached here, in id order. */
  readonly all: readonly CompiledRule[];
}

function kindSlot(kind: ActionKind): number {
  const i = ACTION_KINDS.indexOf(kind);
  // An action of a kind the schema does not know is matched only by rules without `actions`.
  return i === -1 ? ACTION_KINDS.length : i;
}

interface GlobKey {
  kind: 'exact' | 'prefix' | 'suffix' | 'residual';
  text: string;
}

/** The one key a glob is filed under, from its parts as the matcher folds them (split, then fold). */
export function globKey(glob: string): GlobKey {
  const parts = glob.split('*');
  if (parts.length === 1) return { kind: 'exact', text: foldCase(glob) };
  const first = foldCase(parts[0]!);
  if (first !== '') return { kind: 'prefix', text: first };
  const last = foldCase(parts[parts.length - 1]!);
  if (last !== '') return { kind: 'suffix', text: last };
  return { kind: 'residual', text: '' };
}

/** Interns glob keys as small integers and finds, for a folded tool name, every key it satisfies. */
class KeyCatalogue {
  private readonly exact = new Map<string, number>();
  private readonly prefix = new Map<string, number>();
  private readonly suffix = new Map<string, number>();
  private prefixLengths: number[] = [];
  private suffixLengths: number[] = [];
  private next = RESIDUAL + 1;

  intern(k: GlobKey): number {
    if (k.kind === 'residual') return RESIDUAL;
    const table = this[k.kind];
    let id = table.get(k.text);
    if (id === undefined) table.set(k.text, (id = this.next++));
    return id;
  }

  seal(): void {
    this.prefixLengths = [...new Set([...this.prefix.keys()].map((p) => p.length))].sort((a, b) => a - b);
    this.suffixLengths = [...new Set([...this.suffix.keys()].map((s) => s.length))].sort((a, b) => a - b);
  }

  /** The keys a tool name hits, ascending: the residual key, its exact key, and every prefix and suffix key it has. */
  keysOf(name: string): Int32Array {
    const folded = foldCase(name);
    const out = [RESIDUAL];
    const exact = this.exact.get(folded);
    if (exact !== undefined) out.push(exact);
    for (const n of this.prefixLengths) {
      if (n > folded.length) break;
      const id = this.prefix.get(folded.slice(0, n));
      if (id !== undefined) out.push(id);
    }
    for (const n of this.suffixLengths) {
      if (n > folded.length) break;
      const id = this.suffix.get(folded.slice(folded.length - n));
      if (id !== undefined) out.push(id);
    }
    return Int32Array.from(out).sort();
  }
}

interface Entry {
  key: number;
  rule: CompiledRule;
  kinds: number;
  roles: number;
}

function nodeOf(entries: Entry[], all: CompiledRule[]): ScopeNode {
  // Grouped by key, rules in id order within a key.
  entries.sort((a, b) => a.key - b.key || a.rule.id - b.rule.id);
  const keys: number[] = [];
  const starts: number[] = [];
  for (const [i, e] of entries.entries()) {
    if (keys.length === 0 || keys[keys.length - 1] !== e.key) {
      keys.push(e.key);
      starts.push(i);
    }
  }
  return { keys, starts, rules: entries.map((e) => e.rule), kinds: entries.map((e) => e.kinds), roles: entries.map((e) => e.roles), all };
}

/**
 * Builds the lookup over a set's rules: scope ancestry, then action kind, tool-name keys and the
 * principal's roles, so a lookup touches the rules that could match rather than the whole set.
 */
export function buildRuleIndex(rules: readonly CompiledRule[]): RuleIndex {
  const keys = new KeyCatalogue();
  const roleBits = new Map<string, number>();
  let otherRoles = false;
  const roleMaskOf = (rule: CompiledRule): number => {
    if (!rule.roles) return ALWAYS;
    let m = 0;
    for (const role of rule.roles) {
      let bit = roleBits.get(role);
      if (bit === undefined && roleBits.size < NAMED_ROLE_BITS) roleBits.set(role, (bit = 1 << roleBits.size));
      if (bit === undefined) {
        otherRoles = true;
        m |= OTHER_ROLES;
      } else m |= bit;
    }
    return m;
  };

  // Glob lists repeat across rules (compile.ts shares each distinct one): key each list once.
  const keysByList = new Map<readonly string[], readonly number[]>();
  const keysOfGlobs = (globs: readonly string[]): readonly number[] => {
    let k = keysByList.get(globs);
    if (k === undefined) keysByList.set(globs, (k = [...new Set(globs.map((g) => keys.intern(globKey(g))))]));
    return k;
  };
  const building = new Map<string, { entries: Entry[]; all: CompiledRule[] }>();
  // A rule hit through two of its globs must be returned once: only rules with several keys are checked.
  const multiKey = new Uint8Array(rules.length);
  for (const rule of rules) {
    const roles = roleMaskOf(rule);
    let kinds = ANY_KIND;
    if (rule.actions) {
      kinds = 0;
      for (const k of rule.actions) kinds |= 1 << kindSlot(k);
    }
    const ruleKeys = rule.toolGlobs ? keysOfGlobs(rule.toolGlobs) : NO_TOOL_KEYS;
    if (ruleKeys.length > 1) multiKey[rule.id] = 1;
    for (const scope of rule.scopes) {
      let node = building.get(scope);
      if (!node) building.set(scope, (node = { entries: [], all: [] }));
      node.all.push(rule);
      for (const key of ruleKeys) node.entries.push({ key, rule, kinds, roles });
    }
  }
  keys.seal();
  const nodes = new Map<string, ScopeNode>();
  for (const [scope, b] of building) nodes.set(scope, nodeOf(b.entries, b.all));
  building.clear();

  // Both caches hold values that are pure functions of their key and of this (immutable) index.
  const chains = new Map<string, readonly ScopeNode[]>();
  const chainOf = (scope: string): readonly ScopeNode[] => {
    let chain = chains.get(scope);
    if (chain === undefined) {
      chain = ancestry(scope)
        .map((s) => nodes.get(s))
        .filter((n): n is ScopeNode => n !== undefined);
      if (chains.size >= MAX_CACHED) chains.clear();
      chains.set(scope, chain);
    }
    return chain;
  };
  const toolKeys = new Map<string, Int32Array>();
  const keysOf = (name: string): Int32Array => {
    if (name.length > MAX_CACHED_NAME) return keys.keysOf(name);
    let k = toolKeys.get(name);
    if (k === undefined) {
      k = keys.keysOf(name);
      if (toolKeys.size >= MAX_CACHED) toolKeys.clear();
      toolKeys.set(name, k);
    }
    return k;
  };
  const principalMask = (roles: readonly string[] | undefined): number => {
    let m = ALWAYS;
    if (roles) {
      for (const role of roles) {
        const bit = roleBits.get(role);
        if (bit !== undefined) m |= bit;
        else if (otherRoles) m |= OTHER_ROLES;
      }
    }
    return m;
  };

  const seen = new Uint32Array(rules.length);
  let epoch = 0;
  /** Appends the rules of group `g` of `node` that pass the kind and role masks. */
  const collect = (node: ScopeNode, g: number, kind: number, roles: number, out: CompiledRule[]): void => {
    const end = g + 1 < node.starts.length ? node.starts[g + 1]! : node.rules.length;
    for (let i = node.starts[g]!; i < end; i++) {
      if ((node.kinds[i]! & kind) === 0 || (node.roles[i]! & roles) === 0) continue;
      const rule = node.rules[i]!;
      if (multiKey[rule.id] === 1) {
        if (seen[rule.id] === epoch) continue;
        seen[rule.id] = epoch;
      }
      out.push(rule);
    }
  };

  return {
    size: rules.length,
    candidates(action: Action) {
      const chain = chainOf(action.scope);
      if (chain.length === 0) return EMPTY as CompiledRule[];
      const kind = 1 << kindSlot(action.kind);
      const tool = action.tool ? keysOf(action.tool.name) : undefined;
      const roles = principalMask(action.principal?.roles);
      if (++epoch === 0xffffffff) {
        seen.fill(0);
        epoch = 1;
      }
      const out: CompiledRule[] = [];
      for (const node of chain) {
        const nk = node.keys;
        let g = 0;
        if (nk[0] === NO_TOOL) collect(node, g++, kind, roles, out);
        if (!tool) continue;
        // Both key lists ascend: find each of the name's few keys among the node's, from where the last was found.
        for (let t = 0; t < tool.length && g < nk.length; t++) {
          const want = tool[t]!;
          let hi = nk.length;
          while (g < hi) {
            const mid = (g + hi) >>> 1;
            if (nk[mid]! < want) g = mid + 1;
            else hi = mid;
          }
          if (nk[g] === want) collect(node, g++, kind, roles, out);
        }
      }
      return out;
    },
    inScope(scope: string) {
      const chain = chainOf(scope);
      if (chain.length === 0) return EMPTY;
      if (chain.length === 1) return chain[0]!.all;
      return chain.flatMap((n) => n.all).sort((a, b) => a.id - b.id);
    },
  };
}
