/**
 * The one glob of Warden (policy matches, CEL's `globMatches`, rate limits, stream filters): `*`
 * matches any run of characters (dots, slashes and newlines included); nothing else is special.
 * Matching never uses a regular expression, so a hostile glob or value costs at most
 * O(|glob| x |value|): literal parts are found left to right, each at its first place after the last.
 */
export type GlobMatcher = (value: string) => boolean;

/** Compiles a glob once; exact names and single-`*` prefixes and suffixes take the short paths. */
export function compileGlob(glob: string): GlobMatcher {
  const parts = glob.split('*');
  if (parts.length === 1) return (v) => v === glob;
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

/** Compiles a list of globs into one matcher that holds when any glob does; an empty list matches nothing. */
export function compileGlobs(globs: readonly string[]): GlobMatcher {
  const ms = globs.map(compileGlob);
  if (ms.length === 1) return ms[0]!;
  return (v) => ms.some((m) => m(v));
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
