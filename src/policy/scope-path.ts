/** True when `scope` equals `ancestor` or lies below it. */
export function isUnder(scope: string, ancestor: string): boolean {
  return scope === ancestor || (scope.length > ancestor.length && scope.startsWith(ancestor) && scope.charCodeAt(ancestor.length) === 47);
}

/** The scope and each of its ancestors, root first: `a/b/c` gives `a`, `a/b`, `a/b/c`. */
export function ancestry(scope: string): string[] {
  const out: string[] = [];
  let i = scope.indexOf('/');
  while (i !== -1) {
    out.push(scope.slice(0, i));
    i = scope.indexOf('/', i + 1);
  }
  out.push(scope);
  return out;
}

/** Drops every path that lies below another path of the list, so no scope is counted twice. */
export function outermost(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((q) => q !== p && isUnder(p, q)));
}
