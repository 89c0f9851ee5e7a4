import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

/**
 * The architecture rules of Warden's `src/` (DESIGN.md "Layout", STYLE.md §4.8, §4.9, §4.10), as one pure
 * function over a source tree. test/architecture.test.ts runs it on the real `src/` and on fixture trees
 * that each hold exactly one defect, so every rule is shown to fire.
 *
 * Files are parsed with the TypeScript compiler (no regular expressions over source text), so comments
 * and strings never count as imports, `process.env` or declarations.
 */

/** Which rule a violation breaks. */
export type Rule = 'cycle' | 'layer' | 'unknown-folder' | 'root-file' | 'unresolved-import' | 'process-env' | 'mutable-singleton' | 'core-io' | 'file-name' | 'sdk-import';

/** One broken rule: `file` is relative to the checked `src/`, with `/` separators. */
export interface Violation {
  readonly rule: Rule;
  readonly file: string;
  readonly message: string;
}

/**
 * Folder of `src/` → the folders it may import (DESIGN.md "Layout"). `'*'` means any folder.
 * A folder not listed here is an unknown folder.
 */
export const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  domain: [],
  policy: ['domain'],
  detect: ['domain'],
  checkpoint: ['domain', 'policy', 'detect'],
  audit: ['domain'],
  registry: ['domain', 'checkpoint'],
  approvals: ['domain', 'checkpoint', 'identity'],
  identity: ['domain'],
  // Managed policies: versions, review and the per-tenant sets they compile into (src/policy stays pure).
  policies: ['domain', 'policy', 'identity', 'checkpoint'],
  abuse: ['domain', 'policy', 'checkpoint', 'identity'],
  reports: ['domain', 'audit'],
  prompts: ['domain', 'policy', 'detect'],
  proxy: ['domain', 'checkpoint'],
  // The store implements the ports of the layers that own them (audit's stores, registry's repo).
  store: ['domain', 'audit', 'registry', 'identity', 'policies', 'approvals', 'abuse'],
  config: ['domain', 'policy', 'audit', 'identity'],
  gateway: ['domain', 'checkpoint', 'identity'],
  api: ['domain', 'policy', 'policies', 'registry', 'approvals', 'audit', 'checkpoint', 'config', 'identity', 'abuse'],
  // The SDK ships to agent code (`warden/sdk`): it may read domain's types, never run server code (SDK_ADAPTER_PACKAGES).
  sdk: ['domain'],
  // Metrics and traces: implements the observer ports of the checkpoint and the gateway.
  telemetry: ['domain', 'checkpoint', 'gateway'],
  // Permissive but named: the CLI gets its services from main; `store` and `gateway` stay only while
  // commands still open a store or a gateway themselves (issue 10 item 1 moves that into main).
  // The CLI gets its services from main; it imports the others for types and pure helpers only.
  cli: ['domain', 'config', 'policy', 'policies', 'detect', 'audit', 'registry', 'checkpoint', 'main', 'gateway', 'identity'],
  // The composition root knows every implementation.
  main: ['*'],
});

/**
 * What the SDK may import beyond its own files, which the layer table cannot say: from `domain`, types
 * only (erased at build, so nothing of the server loads); packages only in `sdk/adapters/`, and only
 * the framework each adapter wraps (a peer dependency of the user's own).
 */
export const SDK_ADAPTER_PACKAGES: readonly string[] = Object.freeze(['ai', '@openai/agents', '@langchain/core/tools']);

/** The core: pure, no I/O, no module-level mutable state. */
export const CORE: readonly string[] = ['domain', 'policy', 'detect', 'checkpoint'];

/** Folders that may read `process.env` (config is read once, in config/, and handed out by main/). */
export const ENV_READERS: readonly string[] = ['config', 'main'];

/** Modules the core must not import (I/O). */
const IO_MODULE = /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|child_process|worker_threads|cluster|pg|@electric-sql\/pglite|fastify|kysely)$/;

/**
 * A file directly under `src/` that is read as a folder for the other rules (layer edges, process.env) while
 * it still sits there: the composition root, until it moves into src/main/. It is still a `root-file`.
 */
const ROOT_FILES: Readonly<Record<string, string>> = Object.freeze({ 'main.ts': 'main' });

/**
 * The exemption for the mutable-singleton rule, required on the line right before the declaration:
 * a memo table whose value is a pure function of its key and whose size is bounded, so sharing it
 * across requests and tenants is unobservable except in time.
 */
export const PURE_MEMO_ANNOTATION = '// INVARIANT: pure memo, bounded';

/**
 * The one other state the core may hold: the process's UUIDv7 sequence (RFC 9562 §6.2, method 1),
 * which must be shared by every id minted in the process for ids to stay ordered within a millisecond.
 */
export const ID_SEQUENCE_ANNOTATION = '// INVARIANT: the process-wide UUIDv7 sequence';

const MUTABLE_CONSTRUCTORS = new Set([
  'Map', 'Set', 'WeakMap', 'WeakSet', 'Array', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
]);
const MUTATING_METHODS = new Set(['set', 'add', 'delete', 'clear', 'push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin']);

interface SourceFileInfo {
  /** Path relative to src/, `/`-separated. */
  readonly rel: string;
  readonly abs: string;
  readonly folder: string | undefined;
  readonly ast: ts.SourceFile;
  readonly text: string;
}

/** Runs every rule over the tree at `srcRoot`; violations sorted by rule, then file, then message. */
export function checkArchitecture(srcRoot: string): Violation[] {
  const out: Violation[] = [];
  const all = walk(srcRoot);
  for (const abs of all) {
    const name = abs.slice(abs.lastIndexOf(sep) + 1);
    if (!/^[a-z0-9]+(-[a-z0-9]+)*(\.case)?(\.test)?\.ts$/.test(name)) out.push({ rule: 'file-name', file: relOf(srcRoot, abs), message: 'file name is not kebab-case' });
  }
  for (const entry of readdirSync(srcRoot)) {
    if (statSync(join(srcRoot, entry)).isDirectory() && !(entry in MAY_IMPORT)) {
      out.push({ rule: 'unknown-folder', file: entry, message: `folder \`${entry}\` is not in the layer table` });
    }
  }
  // Test files are not modules of the product: they are checked for names only.
  const files: SourceFileInfo[] = all
    .filter((abs) => !abs.endsWith('.test.ts'))
    .map((abs) => {
      const rel = relOf(srcRoot, abs);
      const text = readFileSync(abs, 'utf8');
      return { rel, abs, text, folder: folderOf(rel), ast: ts.createSourceFile(abs, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS) };
    });
  const byAbs = new Map(files.map((f) => [f.abs, f]));
  const edges = new Map<string, string[]>();

  for (const f of files) {
    if (!f.rel.includes('/')) out.push({ rule: 'root-file', file: f.rel, message: f.folder === undefined ? 'files directly under src/ are not allowed; put it in a folder' : `files directly under src/ are not allowed; move it into src/${f.folder}/` });
    const targets: string[] = [];
    for (const spec of moduleSpecifiers(f.ast)) {
      if (!spec.startsWith('.')) {
        if (f.folder !== undefined && CORE.includes(f.folder) && IO_MODULE.test(spec)) out.push({ rule: 'core-io', file: f.rel, message: `the core imports I/O module \`${spec}\`` });
        continue;
      }
      const target = resolve(f.abs, spec);
      if (target === undefined) {
        out.push({ rule: 'unresolved-import', file: f.rel, message: `\`${spec}\` does not resolve to a file` });
        continue;
      }
      const targetRel = relOf(srcRoot, target);
      if (targetRel.startsWith('..')) {
        out.push({ rule: 'layer', file: f.rel, message: `imports \`${spec}\` from outside src/` });
        continue;
      }
      if (byAbs.has(target)) targets.push(target);
      const to = folderOf(targetRel);
      const allowed = f.folder === undefined ? undefined : MAY_IMPORT[f.folder];
      if (allowed === undefined || to === undefined || to === f.folder || allowed.includes('*') || allowed.includes(to)) continue;
      out.push({ rule: 'layer', file: f.rel, message: `${f.folder} may not import ${to} (\`${spec}\`)` });
    }
    if (f.folder === 'sdk') out.push(...sdkImports(f, srcRoot));
    edges.set(f.abs, [...new Set(targets)].sort());
    if (f.folder === undefined || !ENV_READERS.includes(f.folder)) {
      for (const line of processEnvReads(f.ast)) out.push({ rule: 'process-env', file: f.rel, message: `reads process.env at line ${line}; only ${ENV_READERS.join('/')} may` });
    }
    if (f.folder !== undefined && CORE.includes(f.folder)) {
      for (const s of mutableSingletons(f.ast, f.text)) out.push({ rule: 'mutable-singleton', file: f.rel, message: s });
    }
  }

  for (const { cycle, component } of cycles(edges)) {
    const path = cycle.map((abs) => relOf(srcRoot, abs));
    const rest = component.length > cycle.length ? ` (its component also holds ${component.filter((c) => !cycle.includes(c)).map((abs) => relOf(srcRoot, abs)).join(', ')})` : '';
    out.push({ rule: 'cycle', file: path[0]!, message: `import cycle: ${[...path, path[0]].join(' → ')}${rest}` });
  }

  return out.sort((a, b) => a.rule.localeCompare(b.rule) || a.file.localeCompare(b.file) || a.message.localeCompare(b.message));
}

/** The SDK's imports that would load something it may not: a package outside an adapter's framework, or a value from another layer. */
function sdkImports(f: SourceFileInfo, srcRoot: string): Violation[] {
  const out: Violation[] = [];
  const inAdapter = f.rel.startsWith('sdk/adapters/');
  for (const { spec, typeOnly } of importsWithKind(f.ast)) {
    if (!spec.startsWith('.')) {
      if (typeOnly && inAdapter) continue;
      if (inAdapter && SDK_ADAPTER_PACKAGES.includes(spec)) continue;
      out.push({ rule: 'sdk-import', file: f.rel, message: `the SDK imports package \`${spec}\`${inAdapter ? '; an adapter imports only its framework' : '; only fetch and its own modules'}` });
      continue;
    }
    const target = resolve(f.abs, spec);
    const to = target === undefined ? undefined : folderOf(relOf(srcRoot, target));
    if (to === undefined || to === 'sdk' || typeOnly) continue;
    out.push({ rule: 'sdk-import', file: f.rel, message: `the SDK imports a value from ${to} (\`${spec}\`); import types only` });
  }
  return out;
}

/** Each module a file names with whether only types come of it (`import type`, `export type … from`, every binding `type`). */
function importsWithKind(sf: ts.SourceFile): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const b = c?.namedBindings;
      const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && b !== undefined && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly)));
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const e = node.exportClause;
      out.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || (e !== undefined && ts.isNamedExports(e) && e.elements.length > 0 && e.elements.every((x) => x.isTypeOnly)) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      out.push({ spec: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
}

function relOf(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

/** The layer a file belongs to: its top folder, or the folder a known root file stands for; undefined otherwise. */
function folderOf(rel: string): string | undefined {
  const slash = rel.indexOf('/');
  if (slash < 0) return ROOT_FILES[rel];
  const top = rel.slice(0, slash);
  return top in MAY_IMPORT ? top : undefined;
}

/** `./x.js` → `x.ts`, `./x` → `x.ts` or `x/index.ts`; other extensions (`.json`) as they are. */
function resolve(from: string, spec: string): string | undefined {
  const base = join(dirname(from), spec);
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  const candidates = /\.(js|mjs|cjs)$/.test(base) ? [`${stem}.ts`, `${stem}.mts`, join(stem, 'index.ts')] : [base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/**
 * Every module a file names: `import` (type-only and side-effect ones included), `export … from`,
 * `import x = require()`, dynamic `import()` and `import('…')` types, anywhere in the file.
 */
function moduleSpecifiers(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) out.push(node.moduleReference.expression.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) out.push(node.arguments[0].text);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) out.push(node.argument.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * Lines that read the environment: `process.env`, `process['env']`, `const { env } = process`, and
 * `env` imported from `process`/`node:process`.
 */
function processEnvReads(sf: ts.SourceFile): number[] {
  const lines: number[] = [];
  const at = (n: ts.Node) => lines.push(sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1);
  const isProcess = (e: ts.Expression) => ts.isIdentifier(e) && e.text === 'process';
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isProcess(node.expression) && node.name.text === 'env') at(node);
    else if (ts.isElementAccessExpression(node) && isProcess(node.expression) && ts.isStringLiteralLike(node.argumentExpression) && node.argumentExpression.text === 'env') at(node);
    else if (ts.isVariableDeclaration(node) && node.initializer && isProcess(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      if (node.name.elements.some((e) => (e.propertyName ?? e.name).getText(sf) === 'env')) at(node);
    } else if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && /^(node:)?process$/.test(node.moduleSpecifier.text)) {
      const b = node.importClause?.namedBindings;
      if (b && ts.isNamedImports(b) && b.elements.some((e) => (e.propertyName ?? e.name).text === 'env')) at(node);
      if (b && ts.isNamespaceImport(b)) at(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return lines;
}

function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
  return e;
}

/**
 * Module-level mutable state, the rule the core keeps (STYLE.md §4.9: no module-level singletons):
 * 1. any top-level `let` or `var`;
 * 2. a top-level `const` holding a mutable container — `new Map|Set|WeakMap|WeakSet|Array|ArrayBuffer|DataView`,
 *    a typed array, an array literal or an object literal — that is written inside a function of the file:
 *    a mutating method call on it (`.set .add .delete .clear .push .pop .shift .unshift .splice .sort
 *    .reverse .fill .copyWithin`), or an assignment, `++`/`--` or `delete` on one of its elements or properties.
 * Writes in top-level statements run once, at load, so a table filled there and only read afterwards is
 * a frozen table and passes, as do `Object.freeze(...)`, `as const` data and `new Set([...])` never written.
 * A pure, bounded memo may stay only with `PURE_MEMO_ANNOTATION` on the line before its declaration.
 * Not seen: writes through an alias or from another module.
 */
function mutableSingletons(sf: ts.SourceFile, text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  const annotated = (node: ts.Node) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
    const before = line > 0 ? lines[line - 1]!.trim() : '';
    return before.startsWith(PURE_MEMO_ANNOTATION) || (sf.fileName.endsWith('domain/ids.ts') && before.startsWith(ID_SEQUENCE_ANNOTATION));
  };
  const containers = new Map<string, number>();
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    const list = stmt.declarationList;
    const line = sf.getLineAndCharacterOfPosition(stmt.getStart(sf)).line + 1;
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
    for (const d of list.declarations) {
      const names = bindingNames(d.name);
      if (!isConst) {
        if (!annotated(stmt)) out.push(`top-level \`${(list.flags & ts.NodeFlags.Let) !== 0 ? 'let' : 'var'} ${names.join(', ')}\` at line ${line}`);
        continue;
      }
      if (!ts.isIdentifier(d.name) || d.initializer === undefined || annotated(stmt)) continue;
      const init = unwrap(d.initializer);
      const mutable =
        (ts.isNewExpression(init) && ts.isIdentifier(init.expression) && MUTABLE_CONSTRUCTORS.has(init.expression.text)) ||
        ts.isArrayLiteralExpression(init) ||
        ts.isObjectLiteralExpression(init);
      if (mutable) containers.set(d.name.text, line);
    }
  }
  if (containers.size === 0) return out;
  const written = new Map<string, number>();
  const target = (e: ts.Expression): string | undefined => {
    e = unwrap(e);
    if ((ts.isElementAccessExpression(e) || ts.isPropertyAccessExpression(e)) && ts.isIdentifier(unwrap(e.expression))) {
      const name = (unwrap(e.expression) as ts.Identifier).text;
      return containers.has(name) ? name : undefined;
    }
    return undefined;
  };
  const note = (name: string | undefined, node: ts.Node) => {
    if (name !== undefined && !written.has(name)) written.set(name, sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1);
  };
  const visit = (node: ts.Node, inFunction: boolean): void => {
    const fn = inFunction || ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
    if (fn) {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && MUTATING_METHODS.has(node.expression.name.text)) {
        const recv = unwrap(node.expression.expression);
        if (ts.isIdentifier(recv) && containers.has(recv.text)) note(recv.text, node);
      } else if (ts.isBinaryExpression(node) && node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && node.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
        note(target(node.left), node);
      } else if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) && (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)) {
        note(target(node.operand), node);
      } else if (ts.isDeleteExpression(node)) {
        note(target(node.expression), node);
      }
    }
    ts.forEachChild(node, (c) => visit(c, fn));
  };
  visit(sf, false);
  for (const [name, line] of written) out.push(`top-level \`const ${name}\` (line ${containers.get(name)}) is written inside a function at line ${line}`);
  return out;
}

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/**
 * The import cycles of a file graph: one per strongly connected component (Tarjan) that has more than
 * one file or a file importing itself, as the shortest cycle through the component's first file, with
 * the component's files (sorted).
 */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): Array<{ cycle: string[]; component: string[] }> {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      sccs.push(scc);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!idx.has(v)) strong(v);

  const out: Array<{ cycle: string[]; component: string[] }> = [];
  for (const scc of sccs) {
    const members = new Set(scc);
    const start = [...scc].sort()[0]!;
    if (scc.length === 1 && !(edges.get(start) ?? []).includes(start)) continue;
    // Breadth-first from `start` inside the component, back to `start`: the shortest cycle through it.
    const prev = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    for (let i = 0; i < queue.length && end === undefined; i++) {
      const v = queue[i]!;
      for (const w of edges.get(v) ?? []) {
        if (w === start) {
          end = v;
          break;
        }
        if (members.has(w) && !prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path: string[] = [];
    for (let v: string | undefined = end; v !== undefined && v !== start; v = prev.get(v)) path.unshift(v);
    out.push({ cycle: [start, ...path], component: [...scc].sort() });
  }
  return out.sort((a, b) => a.cycle[0]!.localeCompare(b.cycle[0]!));
}
