import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { compileValidator, type ErrorCode, type SourceSpan } from '../domain/index.js';
import type { Diagnostic } from './diagnostic.js';
import { readPlainYaml } from './plain-yaml.js';
import { PolicyDocSchema, PolicyTestFileSchema, ScopeSettingsDocSchema, type PolicyDoc, type PolicyTestFile, type ScopeSettingsDoc } from './document.js';

/** Maps a path inside a parsed document back to its place in the source. */
export interface Locator {
  /** The file the document came from. */
  readonly file: string;
  /** Span of the value at `path` (or of the key, when `key` is set); falls back to the nearest ancestor. */
  at(path: readonly (string | number)[], key?: string): SourceSpan;
  /** Span of character `offset` inside the string scalar at `path` (for CEL errors). */
  inString(path: readonly (string | number)[], offset: number): SourceSpan;
}

/** A parsed document and how to point back into its source. */
export interface Located<T> {
  value: T;
  loc: Locator;
}

/** Everything one policy file holds. */
export interface ParsedPolicySource {
  policies: Located<PolicyDoc>[];
  settings: Located<ScopeSettingsDoc>[];
  /** Policy documents the schema refused, as read: their conditions are still checked. */
  refused: Located<unknown>[];
  diagnostics: Diagnostic[];
}

const checkPolicy = compileValidator(PolicyDocSchema);
const checkSettings = compileValidator(ScopeSettingsDocSchema);
const checkTests = compileValidator(PolicyTestFileSchema);

function makeLocator(file: string, text: string, doc: Document, lc: LineCounter): Locator {
  const span = (offset: number): SourceSpan => {
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  const nodeAt = (path: readonly (string | number)[]): Node | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : (doc.getIn(path.slice(0, n), true) as Node | undefined);
      if (node && typeof node === 'object' && 'range' in node && node.range) return node;
    }
    return undefined;
  };
  return {
    file,
    at(path, key) {
      const node = nodeAt(path);
      if (key !== undefined && node && isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
        const k = pair?.key as Node | undefined;
        if (k?.range) return span(k.range[0]);
      }
      return span(node?.range?.[0] ?? 0);
    },
    inString(path, offset) {
      const node = nodeAt(path);
      const start = node?.range?.[0] ?? 0;
      const value = isScalar(node) ? String(node.value) : '';
      // Walk the parsed value and the raw source side by side, matching non-blank characters, so the
      // offset lands right in plain, quoted and block (literal or folded) scalars alike.
      let si = start;
      for (let vi = 0; vi < Math.min(offset, value.length); vi++) {
        const c = value[vi]!;
        if (/\s/.test(c)) continue;
        const found = text.indexOf(c, si);
        if (found === -1) break;
        si = found + 1;
      }
      const at = offset < value.length && !/\s/.test(value[offset]!) ? text.indexOf(value[offset]!, si) : si;
      return span(at === -1 ? si : at);
    },
  };
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

interface RawDoc {
  value: unknown;
  loc: Locator;
  /** Where the document's contents start: how a lazy locator finds it again. */
  offset: number;
}

const YAML_OPTIONS = { prettyErrors: false, uniqueKeys: true } as const;

/** The documents of `text` through `yaml`, with their errors as diagnostics. */
function readFullYaml(file: string, text: string, diagnostics: Diagnostic[]): RawDoc[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, ...YAML_OPTIONS });
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    diagnostics.push({ severity: 'error', code: 'policy.yaml_syntax', message: 'the file is not a YAML stream', span: { file, line: 1, col: 1 } });
    return [];
  }
  const out: RawDoc[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = lc.linePos(e.pos[0]);
        diagnostics.push({ severity: 'error', code: 'policy.yaml_syntax', message: firstLine(e.message), span: { file, line: p.line, col: p.col } });
      }
      continue;
    }
    if (doc.contents === null) continue; // an empty document between `---` separators
    out.push({ value: doc.toJS({ maxAliasCount: 100 }), loc: makeLocator(file, text, doc, lc), offset: doc.contents.range[0] });
  }
  return out;
}

/**
 * Locators for documents the plain reader read: positions come from `yaml` itself, which parses
 * the file only when a diagnostic first asks where something is (most loads never ask).
 */
function lazyLocators(file: string, text: string): (offset: number) => Locator {
  let byOffset: Map<number, Locator> | undefined;
  const located = (offset: number): Locator | undefined => {
    byOffset ??= new Map(readFullYaml(file, text, []).map((d) => [d.offset, d.loc]));
    return byOffset.get(offset);
  };
  // Only if `yaml` disagreed with the plain reader (never, by plain-yaml.test.ts): the document's start.
  const start = (offset: number): SourceSpan => {
    const before = text.slice(0, offset);
    return { file, line: before.split('\n').length, col: offset - before.lastIndexOf('\n') };
  };
  return (offset) => ({
    file,
    at: (path, key) => located(offset)?.at(path, key) ?? start(offset),
    inString: (path, at) => located(offset)?.inString(path, at) ?? start(offset),
  });
}

/**
 * The documents of a policy file: through the plain reader when the file lies inside its subset
 * (the same values, much faster: plain-yaml.ts), else through `yaml`.
 */
function readYaml(file: string, text: string, diagnostics: Diagnostic[]): RawDoc[] {
  const plain = readPlainYaml(text);
  if (plain === undefined) return readFullYaml(file, text, diagnostics);
  const locate = lazyLocators(file, text);
  return plain.map((d) => ({ value: d.value, loc: locate(d.offset), offset: d.offset }));
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

function schemaDiagnostics(issues: { path: string; message: string }[], loc: Locator, code: ErrorCode): Diagnostic[] {
  return issues.map((i) => {
    const path = pointerToPath(i.path === '/' ? '' : i.path);
    const unknownKey = /^unknown field `(.+)`$/.exec(i.message)?.[1];
    return { severity: 'error', code, message: `\`${i.path}\` ${i.message}`, span: loc.at(path, unknownKey) };
  });
}

/** Parses one policy file (one or more YAML documents) and validates each against the v1 shapes. */
export function parsePolicySource(file: string, text: string): ParsedPolicySource {
  const diagnostics: Diagnostic[] = [];
  const policies: Located<PolicyDoc>[] = [];
  const settings: Located<ScopeSettingsDoc>[] = [];
  const refused: Located<unknown>[] = [];
  for (const raw of readYaml(file, text, diagnostics)) {
    const kind = (raw.value as { kind?: unknown } | null)?.kind;
    if (kind === 'Policy') {
      const r = checkPolicy(raw.value);
      if (r.ok) policies.push({ value: r.value, loc: raw.loc });
      else {
        diagnostics.push(...schemaDiagnostics(r.issues, raw.loc, 'policy.schema'));
        refused.push({ value: raw.value, loc: raw.loc });
      }
    } else if (kind === 'ScopeSettings') {
      const r = checkSettings(raw.value);
      if (r.ok) settings.push({ value: r.value, loc: raw.loc });
      else diagnostics.push(...schemaDiagnostics(r.issues, raw.loc, 'policy.schema'));
    } else {
      diagnostics.push({
        severity: 'error',
        code: 'policy.schema',
        message: kind === undefined ? 'the document has no `kind`' : `unknown kind \`${String(kind)}\``,
        span: raw.loc.at(['kind']),
        help: 'use `kind: Policy` or `kind: ScopeSettings` with `apiVersion: warden.dev/v1`',
      });
    }
  }
  return { policies, settings, refused, diagnostics };
}

/** Parses a `*.test.yaml` file; actions inside are validated later, when the cases run. */
export function parsePolicyTestSource(file: string, text: string): { file?: Located<PolicyTestFile>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const docs = readYaml(file, text, diagnostics);
  if (diagnostics.length > 0) return { diagnostics };
  if (docs.length !== 1) {
    diagnostics.push({ severity: 'error', code: 'policy_test.schema', message: 'a test file must hold exactly one YAML document', span: { file, line: 1, col: 1 } });
    return { diagnostics };
  }
  const raw = docs[0]!;
  const r = checkTests(raw.value);
  if (!r.ok) return { diagnostics: schemaDiagnostics(r.issues, raw.loc, 'policy_test.schema') };
  return { file: { value: r.value, loc: raw.loc }, diagnostics };
}


/**
 * The YAML documents of a file with their locators, and `yaml`'s errors as diagnostics: for other
 * kinds of Warden document (abuse rules) read the way policies are.
 */
export function readYamlDocuments(file: string, text: string): { docs: Located<unknown>[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const docs = readYaml(file, text, diagnostics).map((d) => ({ value: d.value, loc: d.loc }));
  return { docs, diagnostics };
}

/** Schema issues of one document as diagnostics under `code`, each pointing at its place. */
export function schemaIssueDiagnostics(issues: { path: string; message: string }[], loc: Locator, code: ErrorCode): Diagnostic[] {
  return schemaDiagnostics(issues, loc, code);
}
