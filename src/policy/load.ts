import { compilePolicySet, type CompileResult, type PolicySource } from './compile.js';
import type { PolicyLoadOptions } from './load-options.js';
import { parsePolicySource } from './parse.js';

/** Parses, lints and compiles a list of sources in one call (the common path for every surface). */
export function loadPolicySources(sources: readonly PolicySource[], opts: PolicyLoadOptions = {}): CompileResult {
  return compilePolicySet(
    sources.map((s) => parsePolicySource(s.file, s.text)),
    sources,
    opts,
  );
}
