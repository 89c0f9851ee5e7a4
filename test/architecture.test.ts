import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// STYLE.md §5: which folder of src/ may import which. The core never imports the shell.
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: [],
  policy: ['domain'],
  detect: ['domain'],
  checkpoint: ['domain', 'policy', 'detect'],
  audit: ['domain'],
  registry: ['domain', 'checkpoint'],
  approvals: ['domain', 'checkpoint'],
  // The store implements the ports of the layers that own them (audit's stores, registry's repo).
  store: ['domain', 'audit', 'registry'],
  config: ['domain', 'policy', 'audit'],
  gateway: ['domain', 'checkpoint'],
  api: ['domain', 'policy', 'registry', 'approvals', 'audit', 'checkpoint', 'config'],
  sdk: ['domain'],
  cli: ['*'],
};

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push((m[1] ?? m[2])!);
  return out;
}

function folderOf(file: string): string {
  return relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');
}

describe('architecture', () => {
  const all = files(SRC).filter((f) => !f.endsWith('.test.ts') && !f.endsWith('test-helpers.ts'));

  it('finds the source tree', () => {
    expect(all.length).toBeGreaterThan(20);
  });

  it('keeps every import edge inside the table of STYLE.md §5', () => {
    const violations: string[] = [];
    for (const f of all) {
      const from = folderOf(f);
      const allowed = MAY_IMPORT[from];
      if (allowed === undefined || allowed.includes('*')) continue;
      for (const spec of importsOf(f)) {
        if (!spec.startsWith('.')) continue;
        const target = folderOf(join(f, '..', spec));
        if (target !== from && !allowed.includes(target)) violations.push(`${relative(SRC, f)} imports ${target} (${spec})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps the core free of I/O modules', () => {
    const io = /^(node:)?(fs|fs\/promises|net|http|https|child_process|pg|@electric-sql\/pglite|fastify|kysely)$/;
    const violations = all
      .filter((f) => ['domain', 'policy', 'detect', 'checkpoint'].includes(folderOf(f)))
      .flatMap((f) => importsOf(f).filter((s) => io.test(s)).map((s) => `${relative(SRC, f)} imports ${s}`));
    expect(violations).toEqual([]);
  });

  it('names every file in kebab-case', () => {
    const bad = files(SRC).filter((f) => !/^[a-z0-9]+(-[a-z0-9]+)*(\.case)?(\.test)?\.ts$/.test(f.split('/').pop()!));
    expect(bad.map((f) => relative(SRC, f))).toEqual([]);
  });
});
