/** A compiled glob: `*` matches any run of characters, dots included; nothing else is special. */
export type GlobMatcher = (value: string) => boolean;

/** Compiles a glob once; exact names and single-`*` prefixes/suffixes avoid regular expressions. */
export function compileGlob(glob: string): GlobMatcher {
  if (glob === '*') return () => true;
  const stars = glob.split('*').length - 1;
  if (stars === 0) return (v) => v === glob;
  if (stars === 1 && glob.endsWith('*')) {
    const prefix = glob.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  if (stars === 1 && glob.startsWith('*')) {
    const suffix = glob.slice(1);
    return (v) => v.endsWith(suffix);
  }
  // Collapse runs of `*` so the pattern cannot stack `.*.*` (which backtracks polynomially).
  const parts = glob.replace(/\*+/g, '*').split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`^${parts.join('.*')}$`, 's');
  return (v) => re.test(v);
}

/** Compiles a list of globs into one matcher that holds when any glob does. */
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
