/**
 * `npm start`'s prestart: builds dist/ only when it is older than what it is built from, so a start
 * with nothing changed does not wait for tsc. Stale means: a file under src/ that the build emits
 * (a non-test `.ts`, a `.json`) has no output in dist/ or is newer than it, or a tsconfig or
 * package.json is newer than dist/cli/main.js. tsc rewrites every output on each build, so the
 * outputs' times are the build's.
 * @example
 * npx tsx scripts/build-if-stale.ts
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
// What tsconfig.build.json excludes: never emitted, so never stale.
const NOT_EMITTED = /\.test\.ts$|(^|\/)test-helpers\.ts$|(^|\/)test-support\.ts$|\.d\.ts$/;

function mtime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

/** Why `root`'s dist/ must be rebuilt, or undefined when it is current. */
export function staleReason(root: string): string | undefined {
  const main = mtime(join(root, 'dist', 'cli', 'main.js'));
  if (main === undefined) return 'dist/ has not been built';
  for (const input of BUILD_INPUTS) {
    const t = mtime(join(root, input));
    if (t !== undefined && t > main) return `${input} changed`;
  }
  const src = join(root, 'src');
  for (const file of files(src)) {
    const rel = relative(src, file);
    if (NOT_EMITTED.test(rel)) continue;
    const out = rel.endsWith('.ts') ? rel.replace(/\.ts$/, '.js') : rel.endsWith('.json') ? rel : undefined;
    if (out === undefined) continue;
    const built = mtime(join(root, 'dist', out));
    if (built === undefined) return `src/${rel} has no build output`;
    if (mtimeOrZero(file) > built) return `src/${rel} changed`;
  }
  return undefined;
}

function mtimeOrZero(file: string): number {
  return mtime(file) ?? 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = join(import.meta.dirname, '..');
  const why = staleReason(root);
  if (why === undefined) {
    process.stderr.write('dist/ is up to date; not rebuilding\n');
  } else {
    process.stderr.write(`building dist/: ${why}\n`);
    process.exitCode = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' }).status ?? 1;
  }
}
