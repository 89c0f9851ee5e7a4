import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

// `warden/sdk` ships to agent code: its built entries must load nothing of the server. The SDK is
// built as `npm run build` builds it (tsconfig.build.json), into a temporary directory, and the
// import graph of what was emitted is walked from each entry of package.json's `exports`.
const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string } | string>; bin: Record<string, string> };
const SDK_ENTRIES = Object.entries(pkg.exports).filter(([k]) => k.startsWith('./sdk')) as [string, { types: string; import: string }][];
const FRAMEWORK: Record<string, string[]> = { './sdk/ai': ['ai'], './sdk/openai-agents': ['@openai/agents'], './sdk/langchain': ['@langchain/core/tools'] };
let out: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sdk-build-'));
  out = join(dir, 'dist');
  const config = join(dir, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({ extends: join(ROOT, 'tsconfig.build.json'), compilerOptions: { rootDir: join(ROOT, 'src'), outDir: out, sourceMap: false, typeRoots: [join(ROOT, 'node_modules/@types')] }, include: [join(ROOT, 'src/sdk')], exclude: [join(ROOT, 'src/**/*.test.ts')] }));
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: ROOT });
}, 120_000);

/** Every module a built file names (imports, re-exports, dynamic imports). */
function specifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) found.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) found.push(n.arguments[0].text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) found.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** The files an entry loads, and the packages they name. */
function graph(entry: string, dts: boolean): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const s of specifiers(f)) {
      if (!s.startsWith('.')) packages.add(s);
      else todo.push(join(dirname(f), dts ? s.replace(/\.js$/, '.d.ts') : s));
    }
  }
  return { files: [...files].map((f) => relative(out, f)).sort(), packages: [...packages].sort() };
}

describe('the built SDK', () => {
  it('is exported at ./sdk and one subpath per framework, each pointing at what the build emits; the bin stays', () => {
    expect(SDK_ENTRIES.map(([k]) => k)).toEqual(['./sdk', './sdk/ai', './sdk/openai-agents', './sdk/langchain']);
    for (const [, e] of SDK_ENTRIES) {
      expect(e.import).toMatch(/^\.\/dist\/sdk\/.+\.js$/);
      expect(existsSync(join(out, e.import.replace(/^\.\/dist\//, ''))), e.import).toBe(true);
      expect(existsSync(join(out, e.types.replace(/^\.\/dist\//, ''))), e.types).toBe(true);
    }
    expect(pkg.bin.warden).toBe('bin/warden.js');
  });

  it('loads only its own modules at run time: no server dependency, no domain code, at most the wrapped framework in an adapter', () => {
    for (const [name, e] of SDK_ENTRIES) {
      const { files, packages } = graph(join(out, e.import.replace(/^\.\/dist\//, '')), false);
      expect(files.filter((f) => !f.startsWith('sdk/')), name).toEqual([]);
      expect(packages.filter((p) => !(FRAMEWORK[name] ?? []).includes(p)), name).toEqual([]);
    }
  });

  it('declares its types over domain’s wire shapes only (and TypeBox’s Static they are written in)', () => {
    for (const [name, e] of SDK_ENTRIES) {
      const { files, packages } = graph(join(out, e.types.replace(/^\.\/dist\//, '')), true);
      expect(files.filter((f) => !f.startsWith('sdk/') && !f.startsWith('domain/')), name).toEqual([]);
      expect(packages.filter((p) => p !== '@sinclair/typebox' && !(FRAMEWORK[name] ?? []).some((fw) => p === fw || p.startsWith(`${fw.split('/')[0]}/`) || fw.startsWith(p))), name).toEqual([]);
    }
  });
});
