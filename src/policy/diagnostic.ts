import type { ErrorCode, SourceSpan } from '../domain/index.js';

/** A problem found in a policy source, with where it is and what to do about it. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable code from the error catalogue: a parse error (`policy.schema`) or a lint rule (`lint/no-matches`). */
  code: ErrorCode;
  message: string;
  span: SourceSpan;
  help?: string;
}

/** `file:line:col: severity[code]: message` — the one-line form every CLI prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const help = d.help ? ` (help: ${d.help})` : '';
  return `${d.span.file}:${d.span.line}:${d.span.col}: ${d.severity}[${d.code}]: ${d.message}${help}`;
}

/** True when any diagnostic is an error. */
export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}
