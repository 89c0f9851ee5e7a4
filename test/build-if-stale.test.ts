import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleReason } from '../scripts/build-if-stale.js';

/** A project tree with every file at time `t` (seconds): what the check reads. */
function tree(files: Record<string, number>): { root: string; touch(file: string, t: number): void } {
  const root = mkdtempSync(join(tmpdir(), 'warden-stale-'));
  const touch = (file: string, t: number) => {
    const p = join(root, file);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, '');
    utimesSync(p, t, t);
  };
  for (const [file, t] of Object.entries(files)) touch(file, t);
  return { root, touch };
}

const BUILT = { 'package.json': 100, 'tsconfig.json': 100, 'tsconfig.build.json': 100, 'src/cli/main.ts': 100, 'src/detect/w.json': 100, 'src/a.test.ts': 100, 'dist/cli/main.js': 200, 'dist/detect/w.json': 200 };

describe('npm start rebuilds only a stale dist/ (scripts/build-if-stale.ts)', () => {
  it('does not rebuild when every output is newer than its source', () => {
    expect(staleReason(tree(BUILT).root)).toBeUndefined();
  });

  it('rebuilds when nothing was built, a source or data file changed, or a file has no output yet', () => {
    const { 'dist/cli/main.js': _, ...unbuilt } = BUILT;
    expect(staleReason(tree(unbuilt).root)).toBe('dist/ has not been built');
    const t = tree(BUILT);
    t.touch('src/cli/main.ts', 300);
    expect(staleReason(t.root)).toBe('src/cli/main.ts changed');
    const data = tree(BUILT);
    data.touch('src/detect/w.json', 300);
    expect(staleReason(data.root)).toBe('src/detect/w.json changed');
    const added = tree(BUILT);
    added.touch('src/new-module.ts', 50);
    expect(staleReason(added.root)).toBe('src/new-module.ts has no build output');
  });

  it('rebuilds when the compiler settings or the package changed, and ignores tests', () => {
    const t = tree(BUILT);
    t.touch('tsconfig.build.json', 300);
    expect(staleReason(t.root)).toBe('tsconfig.build.json changed');
    const tests = tree(BUILT);
    tests.touch('src/a.test.ts', 300);
    tests.touch('src/b/test-helpers.ts', 300);
    expect(staleReason(tests.root)).toBeUndefined();
  });
});
