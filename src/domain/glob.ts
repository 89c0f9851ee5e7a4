/**
 * The one glob of Warden (policy matches, CEL's `globMatches`, rate limits, stream filters): `*`
 * matches any run of characters (dots, slashes and newlines included); nothing else is special.
 * Matching never uses a regular expression, so a hostile glob or value costs at most
 * O(|glob| x |value|): literal parts are found left to right, each at its first place after the last.
 * Case is compared exactly unless `foldCase` is asked for; each use decides (see `GlobOptions`).
 */
export type GlobMatcher = (value: string) => boolean;

/** How a glob compares characters. */
export interface GlobOptions {
  /**
   * Compare with Unicode case folded on both sides (see `foldCase`), so `*delete_all` matches
   * `Delete_All` and `DELETE_ALL`. Policies fold tool and server names: those come from upstream
   * servers, not the policy author, and a deny must not be dodged by case.
   * @default false
   */
  foldCase?: boolean;
}

const ASCII = /^\p{ASCII}*$/u;

/**
 * Unicode case folding, one code point at a time (its upper case, lowered: `ß` and `SS` both give
 * `ss`, `Σ`, `σ` and `ς` give `σ`, the Kelvin sign gives `k`). Folding each code point alone keeps
 * it context-free, so folding commutes with concatenation: a glob that matches a value still
 * matches once both are folded, and `*`, `.` and `/` are left where they were. At most three code
 * units out per code unit in, so matching stays linear.
 */
export function foldCase(s: string): string {
  if (ASCII.test(s)) return s.toLowerCase();
  let out = '';
  // Twice: one round is not idempotent for U+1E9E (`ẞ` gives `ß`, which gives `ss`); two rounds are,
  // for every code point (checked by a test over all of them).
  for (const ch of s) out += ch.toUpperCase().toLowerCase().toUpperCase().toLowerCase();
  return out;
}

/** The matcher over a glob's literal parts (the text between its `*`s). */
function matchParts(parts: readonly string[]): GlobMatcher {
  if (parts.length === 1) {
    const only = parts[0]!;
    return (v) => v === only;
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  // INVARIANT: runs of `*` are one `*` (empty middle parts drop out).
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  if (middle.length === 0) {
    if (first === '' && last === '') return () => true;
    if (last === '') return (v) => v.startsWith(first);
    if (first === '') return (v) => v.endsWith(last);
    const min = first.length + last.length;
    return (v) => v.length >= min && v.startsWith(first) && v.endsWith(last);
  }
  const min = first.length + last.length + middle.reduce((n, p) => n + p.length, 0);
  return (v) => {
    if (v.length < min || !v.startsWith(first) || !v.endsWith(last)) return false;
    // The leftmost place of each middle part leaves the most room for the rest, so it is never wrong.
    let at = first.length;
    const end = v.length - last.length;
    for (const p of middle) {
      const i = v.indexOf(p, at);
      if (i === -1 || i + p.length > end) return false;
      at = i + p.length;
    }
    return true;
  };
}

/** Compiles a glob once; exact names and single-`*` prefixes and suffixes take the short paths. */
export function compileGlob(glob: string, opts: GlobOptions = {}): GlobMatcher {
  if (!opts.foldCase) return matchParts(glob.split('*'));
  // Parts are folded after the split: a character folding to `*` could never become a wildcard.
  const m = matchParts(glob.split('*').map(foldCase));
  return (v) => m(foldCase(v));
}

/** Compiles a list of globs into one matcher that holds when any glob does; an empty list matches nothing. */
export function compileGlobs(globs: readonly string[], opts: GlobOptions = {}): GlobMatcher {
  if (!opts.foldCase) {
    const ms = globs.map((g) => matchParts(g.split('*')));
    return ms.length === 1 ? ms[0]! : (v) => ms.some((m) => m(v));
  }
  const ms = globs.map((g) => matchParts(g.split('*').map(foldCase)));
  // The value is folded once, not once per glob.
  return (v) => {
    const f = foldCase(v);
    return ms.some((m) => m(f));
  };
}

/** The literal first dot-segment of a glob (`deploy` for `deploy.*`), or undefined when it has a `*`. */
export function literalFirstSegment(glob: string): string | undefined {
  const dot = glob.indexOf('.');
  const seg = dot === -1 ? glob : glob.slice(0, dot);
  if (seg.includes('*')) return undefined;
  // A glob without a dot and without a star is an exact name: its "first segment" is the whole name.
  return seg;
}

/** The first dot-segment of a concrete name. */
export function firstSegment(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}
