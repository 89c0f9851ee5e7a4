import { ACTION_KINDS, type Action, type ActionKind } from '../domain/index.js';
import { foldCase } from '../domain/glob.js';
import type { CompiledRule, RuleIndex } from './compiled.js';
import { ancestry, isUnder } from './scope-path.js';
import { matchesMatch } from './static-match.js';

/*
 * How a lookup narrows (each step keeps every rule that could match, see index-contract.test.ts):
 *
 * 1. Scope: rules are filed under each scope they are attached to; a lookup visits only the index
 *    nodes on the action's scope's ancestry, found once per scope string and cached.
 * 2. Tool: within a node, rules are grouped by key. Each tool glob gets one key from its
 *    case-folded literal parts: the whole name when it has no `*`, else the part before the first
 *    `*` (a prefix), else the part after the last `*` (a suffix), else the one literal between
 *    `*`s (an infix: `*.read*`, at most MAX_INFIX_KEYS of them), else the residual key every tool
 *    hits (`*`, `*a*b*`). A tool name is turned into the keys it hits once and cached, and a
 *    lookup reads only those groups, plus the group of rules without a tool constraint.
 * 3. Kind: each entry carries a bit per action kind it is limited to (all bits without `actions`).
 * 4. Roles: an entry limited to roles carries a bit per role; a lookup drops it unless the principal
 *    holds one of them (roles past the 28th share one bit that any unknown role sets).
 *
 * `candidates` stops there: it may keep a rule that does not match but never drops one that does,
 * and never returns a rule whose scopes do not cover the action's scope. `matches` goes on to the
 * full static check, but only for the entries where steps 1–4 leave something open, which is marked
 * per entry when the index is built (`CHECK_*`): the excludes (the ids an exclude removes at a
 * scope are found once and cached with the scope's chain) or everything else (`matchesMatch`).
 * Most entries are decided by the masks and keys alone, so a lookup reads the rule object of no
 * entry it drops.
 */

/** Key of the rules without a tool constraint: visited for every action. */
const NO_TOOL = 0;
/** Key every tool name hits: globs with no literal prefix or suffix. */
const RESIDUAL = 1;
/** At most this many scope strings and tool names are remembered per index, each. */
const MAX_CACHED = 4096;
/** At most this many distinct infix keys (`*lit*`) per index; the rest share the residual key (and get the full check). */
const MAX_INFIX_KEYS = 64;
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
const NO_TOOL_PURE: readonly boolean[] = Object.freeze([true]);
/** What `matches` still checks on an entry the masks and keys let through (set in `buildRuleIndex`). */
const CHECK_NONE = 0;
const CHECK_EXCLUDES = 1;
const CHECK_FULL = 2;

/**
 * What is filed under one scope path, grouped by key, packed as integers so a lookup reads a node
 * from a few cache lines and touches a rule object only for an entry whose check needs it:
 * `[G, keys[0..G), starts[0..G], entries]`. Group `g` (rules of `keys[g]`, ascending keys) is
 * entries `starts[g]` up to `starts[g + 1]`; entry `i` is the `STRIDE` integers from
 * `entriesAt(G) + i * STRIDE`: its kind mask, its role mask, its flags (`CHECK_*`, plus
 * `MULTI_KEY`) and its rule's id. Every node of an index lives in one `Int32Array`, at the offset
 * its scope maps to: a lookup then goes through no typed-array object per node, each its own
 * cache miss in a large set.
 */
type NodeAt = number;

/** What a lookup reads for one scope: the offsets of the nodes on its ancestry, root first, and which of their rules an exclude removes there (ascending ids). */
interface Chain {
  readonly nodes: Int32Array;
  readonly excluded: Int32Array;
}

/** Integers per entry, and each one's offset. */
const STRIDE = 4;
const KINDS = 0;
const ROLES = 1;
const FLAGS = 2;
const ID = 3;
/** Where a node of `groups` groups keeps its keys, its group starts and its entries. */
const KEYS_AT = 1;
const startsAt = (groups: number) => KEYS_AT + groups;
const entriesAt = (groups: number) => KEYS_AT + 2 * groups + 1;
/** Flag of an entry whose rule is filed under more than one key of a node, so a lookup can meet it twice. */
const MULTI_KEY = 4;
const CHECK_MASK = 3;

function kindSlot(kind: ActionKind): number {
  const i = ACTION_KINDS.indexOf(kind);
  // An action of a kind the schema does not know is matched only by rules without `actions`.
  return i === -1 ? ACTION_KINDS.length : i;
}

interface GlobKey {
  kind: 'exact' | 'prefix' | 'suffix' | 'infix' | 'residual';
  text: string;
}

/** The one literal between the stars of a glob like `*.read*`, folded; undefined for any other shape. */
function onlyInfix(parts: readonly string[]): string | undefined {
  if (parts.length < 3 || parts[0] !== '' || parts[parts.length - 1] !== '') return undefined;
  let lit: string | undefined;
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i] === '') continue;
    if (lit !== undefined) return undefined;
    lit = parts[i];
  }
  return lit === undefined ? undefined : foldCase(lit);
}

/** The one key a glob is filed under, from its parts as the matcher folds them (split, then fold). */
export function globKey(glob: string): GlobKey {
  const parts = glob.split('*');
  if (parts.length === 1) return { kind: 'exact', text: foldCase(glob) };
  const first = foldCase(parts[0]!);
  if (first !== '') return { kind: 'prefix', text: first };
  const last = foldCase(parts[parts.length - 1]!);
  if (last !== '') return { kind: 'suffix', text: last };
  const infix = onlyInfix(parts);
  if (infix !== undefined && infix !== '') return { kind: 'infix', text: infix };
  return { kind: 'residual', text: '' };
}

/**
 * Whether hitting a glob's key (`globKey`) is the same as the glob matching: true for an exact name,
 * a literal followed by `*`s, `*`s followed by a literal, a literal between `*`s, and `*`s alone.
 * The folding matcher (compile.ts) compares the same folded parts the key is made of, and a run of
 * `*` is one `*`.
 */
export function keyDecides(glob: string): boolean {
  const parts = glob.split('*');
  if (parts.length === 1) return true;
  if (onlyInfix(parts) !== undefined) return true;
  for (let i = 1; i < parts.length - 1; i++) if (parts[i] !== '') return false;
  return parts[0] === '' || parts[parts.length - 1] === '';
}

/** Interns glob keys as small integers and finds, for a folded tool name, every key it satisfies. */
class KeyCatalogue {
  private readonly exact = new Map<string, number>();
  private readonly prefix = new Map<string, number>();
  private readonly suffix = new Map<string, number>();
  private readonly infix = new Map<string, number>();
  private prefixLengths: number[] = [];
  private suffixLengths: number[] = [];
  private next = RESIDUAL + 1;

  intern(k: GlobKey): number {
    if (k.kind === 'residual') return RESIDUAL;
    // A name is searched for every infix key: past MAX_INFIX_KEYS, more share the residual key.
    if (k.kind === 'infix' && !this.infix.has(k.text) && this.infix.size >= MAX_INFIX_KEYS) return RESIDUAL;
    const table = this[k.kind];
    let id = table.get(k.text);
    if (id === undefined) table.set(k.text, (id = this.next++));
    return id;
  }

  seal(): void {
    this.prefixLengths = [...new Set([...this.prefix.keys()].map((p) => p.length))].sort((a, b) => a - b);
    this.suffixLengths = [...new Set([...this.suffix.keys()].map((s) => s.length))].sort((a, b) => a - b);
  }

  /** The keys a tool name hits, ascending: the residual key, its exact key, every prefix and suffix key it has, and every infix key it contains. */
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
    for (const [text, id] of this.infix) if (folded.includes(text)) out.push(id);
    return Int32Array.from(out).sort();
  }
}

interface Entry {
  key: number;
  rule: CompiledRule;
  kinds: number;
  roles: number;
  flags: number;
}

/** The node of `list`, as the integers to store at its offset. */
function nodeOf(list: Entry[]): Int32Array {
  // Grouped by key, rules in id order within a key.
  list.sort((a, b) => a.key - b.key || a.rule.id - b.rule.id);
  const keys: number[] = [];
  const starts: number[] = [];
  for (const [i, e] of list.entries()) {
    if (keys.length === 0 || keys[keys.length - 1] !== e.key) {
      keys.push(e.key);
      starts.push(i);
    }
  }
  starts.push(list.length);
  const groups = keys.length;
  const node = new Int32Array(entriesAt(groups) + list.length * STRIDE);
  node[0] = groups;
  node.set(keys, KEYS_AT);
  node.set(starts, startsAt(groups));
  for (const [i, e] of list.entries()) {
    const at = entriesAt(groups) + i * STRIDE;
    node[at + KINDS] = e.kinds;
    node[at + ROLES] = e.roles;
    node[at + FLAGS] = e.flags;
    node[at + ID] = e.rule.id;
  }
  return node;
}

/** Whether one of the rule's excludes covers the scope. */
function excluded(rule: CompiledRule, scope: string): boolean {
  for (const ex of rule.excludes) if (isUnder(scope, ex)) return true;
  return false;
}

/** Whether the ascending list holds `id` (binary search). */
function has(ids: Int32Array, id: number): boolean {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < ids.length && ids[lo] === id;
}

/**
 * Sorts a short list of ids in place (insertion sort: the lists are a few dozen long at most and
 * mostly in order). Ids rather than rules: comparing rules would read every matched rule object,
 * a cache miss each in a large set.
 */
function sortIds(ids: number[]): number[] {
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i]!;
    let j = i - 1;
    if (ids[j]! < id) continue;
    while (j >= 0 && ids[j]! > id) {
      ids[j + 1] = ids[j]!;
      j--;
    }
    ids[j + 1] = id;
  }
  return ids;
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

  // Glob lists repeat across rules (compile.ts shares each distinct one): key each list once. A key
  // is pure when one of the list's globs filed under it matches exactly the names that hit it.
  const keysByList = new Map<readonly string[], { keys: readonly number[]; pure: readonly boolean[] }>();
  const keysOfGlobs = (globs: readonly string[]): { keys: readonly number[]; pure: readonly boolean[] } => {
    let k = keysByList.get(globs);
    if (k === undefined) {
      const pureOf = new Map<number, boolean>();
      for (const g of globs) {
        const key = globKey(g);
        const id = keys.intern(key);
        // An infix glob past MAX_INFIX_KEYS lands on the residual key, which its key does not decide.
        const decides = keyDecides(g) && (key.kind !== 'infix' || id !== RESIDUAL);
        pureOf.set(id, (pureOf.get(id) ?? false) || decides);
      }
      keysByList.set(globs, (k = { keys: [...pureOf.keys()], pure: [...pureOf.values()] }));
    }
    return k;
  };
  const building = new Map<string, { entries: Entry[]; all: CompiledRule[] }>();
  for (const rule of rules) {
    const roles = roleMaskOf(rule);
    let kinds = ANY_KIND;
    if (rule.actions) {
      kinds = 0;
      for (const k of rule.actions) kinds |= 1 << kindSlot(k);
    }
    const { keys: ruleKeys, pure } = rule.toolGlobs ? keysOfGlobs(rule.toolGlobs) : { keys: NO_TOOL_KEYS, pure: NO_TOOL_PURE };
    // A rule hit through two of its keys must be returned once: only rules with several keys are checked.
    const multi = ruleKeys.length > 1 ? MULTI_KEY : 0;
    // The kind mask is exact (unless the rule names a kind the schema does not know); the role mask is unless a role shares the other-roles bit; servers,
    // resources and agents are not indexed; a tool key may be impure; excludes are not indexed.
    const open = (roles & OTHER_ROLES) !== 0 || (rule.actions !== undefined && [...rule.actions].some((k) => !ACTION_KINDS.includes(k))) || rule.servers !== undefined || rule.resources !== undefined || rule.agents !== undefined;
    const after = rule.excludes.length > 0 ? CHECK_EXCLUDES : CHECK_NONE;
    for (const scope of rule.scopes) {
      let node = building.get(scope);
      if (!node) building.set(scope, (node = { entries: [], all: [] }));
      node.all.push(rule);
      for (const [i, key] of ruleKeys.entries()) node.entries.push({ key, rule, kinds, roles, flags: multi | (open || !pure[i] ? CHECK_FULL : after) });
    }
  }
  keys.seal();
  const built = new Map<string, Int32Array>();
  /** Every rule attached to a scope, in id order. */
  const attached = new Map<string, readonly CompiledRule[]>();
  /** The rules attached to a scope that have excludes. */
  const excluding = new Map<string, readonly CompiledRule[]>();
  for (const [scope, b] of building) {
    built.set(scope, nodeOf(b.entries));
    attached.set(scope, b.all);
    const some = b.all.filter((r) => r.excludes.length > 0);
    if (some.length > 0) excluding.set(scope, some);
  }
  building.clear();
  let total = 0;
  for (const n of built.values()) total += n.length;
  const data = new Int32Array(total);
  const nodes = new Map<string, NodeAt>();
  total = 0;
  for (const [scope, n] of built) {
    data.set(n, total);
    nodes.set(scope, total);
    total += n.length;
  }
  built.clear();

  // Both caches hold values that are pure functions of their key and of this (immutable) index.
  const chains = new Map<string, Chain>();
  const chainOf = (scope: string): Chain => {
    let chain = chains.get(scope);
    if (chain === undefined) {
      const on = ancestry(scope).filter((s) => nodes.has(s));
      // The rules attached on the ancestry that one of their excludes removes here, found once per scope.
      const out = new Set<number>();
      for (const s of on) for (const r of excluding.get(s) ?? EMPTY) if (excluded(r, scope)) out.add(r.id);
      chain = { nodes: Int32Array.from(on, (s) => nodes.get(s)!), excluded: Int32Array.from(out).sort() };
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
  /** Whether an entry that passed the masks is met for the first time in this lookup. */
  const firstTime = (flags: number, id: number): boolean => {
    if ((flags & MULTI_KEY) === 0) return true;
    if (seen[id] === epoch) return false;
    seen[id] = epoch;
    return true;
  };
  /**
   * Appends the ids of the rules of group `g` of the node at `at` that pass the kind and role
   * masks. Kept apart from `collectMatching`, whose loop is the same walk with the per-entry
   * checks: one loop each keeps both free of a branch per entry on the hot path.
   */
  const collect = (at: NodeAt, g: number, kind: number, roles: number, out: number[]): void => {
    const groups = data[at]!;
    const base = at + entriesAt(groups);
    const starts = at + startsAt(groups) + g;
    const end = base + data[starts + 1]! * STRIDE;
    for (let i = base + data[starts]! * STRIDE; i < end; i += STRIDE) {
      if ((data[i + KINDS]! & kind) === 0 || (data[i + ROLES]! & roles) === 0) continue;
      const id = data[i + ID]!;
      if (firstTime(data[i + FLAGS]!, id)) out.push(id);
    }
  };

  /**
   * Appends the ids of the rules of group `g` of the node at `at` that match `action` statically
   * (see `matches`). `folded` holds the action's folded tool name once an entry needed it, for one lookup.
   */
  let folded: string | undefined;
  const collectMatching = (at: NodeAt, g: number, kind: number, roles: number, action: Action, out: number[], gone: Int32Array): void => {
    const groups = data[at]!;
    const base = at + entriesAt(groups);
    const starts = at + startsAt(groups) + g;
    const end = base + data[starts + 1]! * STRIDE;
    for (let i = base + data[starts]! * STRIDE; i < end; i += STRIDE) {
      if ((data[i + KINDS]! & kind) === 0 || (data[i + ROLES]! & roles) === 0) continue;
      const flags = data[i + FLAGS]!;
      const id = data[i + ID]!;
      if (!firstTime(flags, id)) continue;
      const check = flags & CHECK_MASK;
      if (check !== CHECK_NONE) {
        if (gone.length > 0 && has(gone, id)) continue;
        if (check === CHECK_FULL) {
          if (folded === undefined && action.tool) folded = foldCase(action.tool.name);
          if (!matchesMatch(rules[id]!, action, folded)) continue;
        }
      }
      out.push(id);
    }
  };

  /**
   * Reads, in each node on the action's scope's ancestry, the group without a tool constraint and
   * the group of each of the tool name's keys the node has; `matching` picks `collectMatching` over
   * `collect`. The ids found, in no particular order (a new array).
   */
  const lookup = (action: Action, matching: boolean): number[] => {
    const { nodes: chain, excluded: gone } = chainOf(action.scope);
    if (chain.length === 0) return [];
    const kind = 1 << kindSlot(action.kind);
    const tool = action.tool ? keysOf(action.tool.name) : undefined;
    const roles = principalMask(action.principal?.roles);
    if (++epoch === 0xffffffff) {
      seen.fill(0);
      epoch = 1;
    }
    folded = undefined;
    const out: number[] = [];
    for (let c = 0; c < chain.length; c++) {
      const node = chain[c]!;
      const groups = data[node]!;
      let g = 0;
      if (groups > 0 && data[node + KEYS_AT] === NO_TOOL) {
        if (matching) collectMatching(node, g, kind, roles, action, out, gone);
        else collect(node, g, kind, roles, out);
        g++;
      }
      if (!tool) continue;
      // Both key lists ascend: find each of the name's few keys among the node's, from where the last was found.
      for (let t = 0; t < tool.length && g < groups; t++) {
        const want = tool[t]!;
        let hi = groups;
        while (g < hi) {
          const mid = (g + hi) >>> 1;
          if (data[node + KEYS_AT + mid]! < want) g = mid + 1;
          else hi = mid;
        }
        if (g < groups && data[node + KEYS_AT + g] === want) {
          if (matching) collectMatching(node, g, kind, roles, action, out, gone);
          else collect(node, g, kind, roles, out);
          g++;
        }
      }
    }
    folded = undefined;
    return out;
  };

  const rulesOf = (ids: readonly number[]): CompiledRule[] => {
    const out = new Array<CompiledRule>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = rules[ids[i]!]!;
    return out;
  };

  return {
    size: rules.length,
    matches(action: Action) {
      return rulesOf(sortIds(lookup(action, true)));
    },
    matchIds(action: Action) {
      return sortIds(lookup(action, true));
    },
    candidates(action: Action) {
      return rulesOf(lookup(action, false));
    },
    inScope(scope: string) {
      const all = ancestry(scope)
        .map((s) => attached.get(s))
        .filter((a): a is readonly CompiledRule[] => a !== undefined);
      if (all.length === 0) return EMPTY;
      if (all.length === 1) return all[0]!;
      return all.flat().sort((a, b) => a.id - b.id);
    },
  };
}
