import type { Action } from '../domain/index.js';
import type { PolicySet } from './compiled.js';
import type { Diagnostic } from './diagnostic.js';
import { loadPolicySources } from './load.js';

/** Compiles inline YAML for tests; throws with every diagnostic when the set does not compile. */
export function setOf(...docs: string[]): PolicySet {
  const r = loadPolicySources(docs.map((text, i) => ({ file: `p${i}.yaml`, text })));
  if (!r.set) throw new Error(r.diagnostics.map((d) => `${d.span.file}:${d.span.line}:${d.span.col} ${d.message}`).join('\n'));
  return r.set;
}

/** Diagnostics of inline YAML (one file named `p.yaml`). */
export function diagnosticsOf(text: string): Diagnostic[] {
  return loadPolicySources([{ file: 'p.yaml', text }]).diagnostics;
}

/** A tool.call action with sensible defaults. */
export function call(scope: string, tool: string, extra: Partial<Action> = {}): Action {
  return { kind: 'tool.call', scope, tool: { server: tool.split('.')[0]!, name: tool }, ...extra };
}

/** A policy document with the given rules YAML (indented under `rules:`). */
export function policy(name: string, scope: string | string[], rules: string, meta = ''): string {
  const s = Array.isArray(scope) ? `[${scope.join(', ')}]` : scope;
  return `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: ${name}, scope: ${s}${meta ? `, ${meta}` : ''} }
spec:
  rules:
${rules}`;
}

/** A ScopeSettings document. */
export function settings(scope: string, spec: string): string {
  return `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: ${scope} }
spec: ${spec}
`;
}
