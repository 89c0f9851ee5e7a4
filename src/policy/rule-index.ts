import { ACTION_KINDS, type Action, type ActionKind } from '../domain/index.js';
import { foldCase } from '../domain/glob.js';
import type { CompiledRule, RuleIndex } from './compiled.js';
import { ancestry } from './scope-path.js';

/*
 * How a lookup narrows (each step keeps every rule that could match, see index-contract.test.ts):
 *
 * 1. Scope: rules are filed under each scope they are attached to; a lookup visits only the index
 *    nodes on the action's scope's ancestry, found once per scope string and cached.
 * 2. Kind: within a node, one table per action kind; a rule without `actions` is in every table.
 * 3. Tool: each tool glob gets one key from its case-folded literal parts: the whole name when it
 *    has no `*`, else the part before the first `*` (a prefix), else the part after the last `*`
 *    (a suffix), else the residual key every tool hits (`*`, `*.read*`). A tool name is turned into
 *    the keys it hits once and cached. Rules without a tool constraint sit apart: they are
 *    candidates for every action, with or without a tool.
 * 4. Roles: a rule limited to roles carries a bit per role; a lookup drops it unless the principal
 *    holds one of them (roles past the 30th share one bit that any unknown role sets).
 *
 * What remains is checked in full by the evaluator (`matchesStatically`), so the index may keep a
 * rule that does not match but never drop one that does. It never returns a rule whose scopes do
 * not cover the action's scope: the evaluator does not check that again.
 */

/** Key every tool name hits: globs with no literal prefix or suffix. */
const RESIDUAL = 0;
/** At most this many scope strings and tool names are remembered per index, each. */
const MAX_CACHED = 4096;
/** Longer tool names are resolved each time rather than kept as cache keys. */
const MAX_CACHED_NAME = 512;
const NAMED_ROLE_BITS = 30;
const OTHER_ROLES = 1 << NAMED_ROLE_BITS;
/** Set in every principal's mask and on every rule without roles, so those rules always pass. */
const ALWAYS = 1 << 31;
const EMPTY: readonly CompiledRule[] = Object.freeze([]);

/** Rules and their role masks, side by side so a lookup scans masks without touching the rules. */
interface Bucket {
  readonly rules: CompiledRule[];
  masks: number[] | Int32Array;
}

interface KindTable {
  /** Rules with no tool constraint. */
  noTool: Bucket | undefined;
  byKey: Map<number, Bucket>;
}

/** What is filed under one scope path: a table per action kind, the last slot for unknown kinds. */
interface ScopeNode {
  readonly kinds: (KindTable | undefined)[];
  /** Every rule attached here, in id order. */
  readonly all: CompiledRule[];
}

const KIND_SLOTS = ACTION_KINDS.length + 1;

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

  /** The keys a tool name hits: the residual key, its exact key, and every prefix and suffix key it has. */
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
    return Int32Array.from(out);
  }
}

function push(bucket: Bucket, rule: CompiledRule, mask: number): void {
  bucket.rules.push(rule);
  (bucket.masks as number[]).push(mask);
}

function newBucket(): Bucket {
  return { rules: [], masks: [] };
}

/**
 * Builds the lookup over a set's rules: scope ancestry, then action kind, tool-name keys and the
 * principal's roles, so a lookup touches the rules that could match rather than the whole set.
 */
export function buildRuleIndex(rules: readonly CompiledRule[]): RuleIndex {
  const keys = new KeyCatalogue();
  const roleBits = new Map<string, number>();
  let otherRoles = false;
  const maskOf = (rule: CompiledRule): number => {
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

  const nodes = new Map<string, ScopeNode>();
  // A rule hit through two of its globs must be returned once: only rules with several keys are checked.
  const multiKey = new Uint8Array(rules.length);
  for (const rule of rules) {
    const mask = maskOf(rule);
    const ruleKeys = rule.toolGlobs ? [...new Set(rule.toolGlobs.map((g) => keys.intern(globKey(g))))] : undefined;
    if (ruleKeys && ruleKeys.length > 1) multiKey[rule.id] = 1;
    const slots = rule.actions ? [...rule.actions].map(kindSlot) : Array.from({ length: KIND_SLOTS }, (_, i) => i);
    for (const scope of rule.scopes) {
      let node = nodes.get(scope);
      if (!node) nodes.set(scope, (node = { kinds: new Array<KindTable | undefined>(KIND_SLOTS).fill(undefined), all: [] }));
      node.all.push(rule);
      for (const slot of new Set(slots)) {
        let table = node.kinds[slot];
        if (!table) node.kinds[slot] = table = { noTool: undefined, byKey: new Map() };
        if (!ruleKeys) push((table.noTool ??= newBucket()), rule, mask);
        else {
          for (const k of ruleKeys) {
            let b = table.byKey.get(k);
            if (!b) table.byKey.set(k, (b = newBucket()));
            push(b, rule, mask);
          }
        }
      }
    }
  }
  keys.seal();
  for (const node of nodes.values()) {
    for (const table of node.kinds) {
      if (!table) continue;
      if (table.noTool) table.noTool.masks = Int32Array.from(table.noTool.masks);
      for (const b of table.byKey.values()) b.masks = Int32Array.from(b.masks);
    }
  }

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
  const collect = (b: Bucket, mask: number, out: CompiledRule[]): void => {
    const masks = b.masks;
    for (let i = 0; i < masks.length; i++) {
      if ((masks[i]! & mask) === 0) continue;
      const rule = b.rules[i]!;
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
      const slot = kindSlot(action.kind);
      const tool = action.tool ? keysOf(action.tool.name) : undefined;
      const mask = principalMask(action.principal?.roles);
      if (++epoch === 0xffffffff) {
        seen.fill(0);
        epoch = 1;
      }
      const out: CompiledRule[] = [];
      for (const node of chain) {
        const table = node.kinds[slot];
        if (!table) continue;
        if (table.noTool) collect(table.noTool, mask, out);
        if (tool) {
          for (let i = 0; i < tool.length; i++) {
            const b = table.byKey.get(tool[i]!);
            if (b) collect(b, mask, out);
          }
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
