import { isAbsolute, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ERROR_CODES, type ErrorCode } from '../domain/index.js';
import type { Diagnostic } from './diagnostic.js';
import { LINT_RULES } from './lint.js';

/** The parts of a SARIF 2.1.0 log that `policy lint` writes (GitHub code scanning reads these). */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

export interface SarifRun {
  tool: { driver: { name: string; version: string; rules: SarifRule[] } };
  columnKind: 'utf16CodeUnits';
  results: SarifResult[];
}

export interface SarifRule {
  id: string;
  shortDescription: { text: string };
  defaultConfiguration: { level: 'error' | 'warning' };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: 'error' | 'warning';
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn: number } } }[];
}

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** How a rule is configured: a lint rule says so in LINT_RULES; parse and compile problems are errors. */
function defaultLevel(code: ErrorCode): 'error' | 'warning' {
  const described: string | undefined = (LINT_RULES as Record<string, string>)[code];
  return described?.startsWith('warning:') ? 'warning' : 'error';
}

/**
 * A file name as a SARIF artifact URI: a relative path stays relative to the checkout root
 * (`%SRCROOT%`, which code scanning resolves), so the log does not carry the machine's paths.
 */
function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(file)) return { uri: pathToFileURL(file).href };
  return { uri: file.split(sep === '\\' ? /[\\/]/ : '/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

/** One result per diagnostic, with a rule entry per code that occurs: the SARIF form of `policy lint`. */
export function lintSarif(diagnostics: readonly Diagnostic[], opts: { version: string }): SarifLog {
  const rules: SarifRule[] = [];
  const index = new Map<ErrorCode, number>();
  const results = diagnostics.map((d): SarifResult => {
    let i = index.get(d.code);
    if (i === undefined) {
      i = rules.push({ id: d.code, shortDescription: { text: ERROR_CODES[d.code] }, defaultConfiguration: { level: defaultLevel(d.code) } }) - 1;
      index.set(d.code, i);
    }
    return {
      ruleId: d.code,
      ruleIndex: i,
      level: d.severity,
      message: { text: d.help ? `${d.message}. Help: ${d.help}` : d.message },
      locations: [{ physicalLocation: { artifactLocation: artifactLocation(d.span.file), region: { startLine: d.span.line, startColumn: d.span.col } } }],
    };
  });
  return {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'warden', version: opts.version, rules } }, columnKind: 'utf16CodeUnits', results }],
  };
}
