import { formatDiagnostic, type Diagnostic } from './diagnostic.js';

// XML 1.0 cannot hold these at all, escaped or not: control characters other than tab and line
// breaks, U+FFFE/U+FFFF and unpaired surrogates (a file name or condition may carry any of them).
// eslint-disable-next-line no-control-regex -- matching the characters XML forbids is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe in an attribute value or element content. */
export function xmlText(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]!};`);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${xmlText(String(v))}"`)
    .join('');
}

/**
 * The JUnit XML form of `policy lint`, as GitLab (`artifacts:reports:junit`) and Jenkins (`junit`)
 * read it: a suite per file; each error is a failed test case of its own, so the merge request or
 * build page lists every problem with its position, and a file without errors is one passing case,
 * so a clean run shows as tests passed rather than as no tests. JUnit has no "warning" outcome:
 * warnings go to the suite's `system-out`.
 */
export function lintJunit(diagnostics: readonly Diagnostic[], files: readonly string[]): string {
  const byFile = new Map<string, Diagnostic[]>(files.map((f) => [f, []]));
  for (const d of diagnostics) {
    const list = byFile.get(d.span.file);
    if (list) list.push(d);
    else byFile.set(d.span.file, [d]);
  }
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  for (const [file, ds] of byFile) {
    const errors = ds.filter((d) => d.severity === 'error');
    const warnings = ds.filter((d) => d.severity === 'warning');
    const cases =
      errors.length === 0
        ? [`    <testcase${attrs({ classname: file, name: 'lint', file })}/>`]
        : errors.map((d) => {
            const name = `${d.code} at ${d.span.line}:${d.span.col}`;
            const failure = `<failure${attrs({ message: d.message, type: d.code })}>${xmlText(formatDiagnostic(d))}</failure>`;
            return `    <testcase${attrs({ classname: file, name, file })}>${failure}</testcase>`;
          });
    tests += cases.length;
    failures += errors.length;
    const out = warnings.length > 0 ? [`    <system-out>${xmlText(warnings.map(formatDiagnostic).join('\n'))}</system-out>`] : [];
    suites.push(`  <testsuite${attrs({ name: file, tests: cases.length, failures: errors.length, errors: 0, skipped: 0 })}>`, ...cases, ...out, '  </testsuite>');
  }
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs({ name: 'warden policy lint', tests, failures, errors: 0 })}>`, ...suites, '</testsuites>', ''].join('\n');
}
