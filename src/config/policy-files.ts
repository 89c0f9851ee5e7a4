import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { WardenError } from '../domain/index.js';
import type { PolicySource } from '../policy/index.js';

/** Policy sources and test files found under the given paths. */
export interface PolicyFiles {
  sources: PolicySource[];
  tests: PolicySource[];
  /**
   * Every directory a change could come from, absolute: each directory walked under a directory
   * path, and the parent of each file path (an editor's rename-save replaces the file's entry there).
   */
  dirs: string[];
}

const YAML = /\.ya?ml$/;
const TEST = /\.test\.ya?ml$/;

async function walk(dir: string, out: string[], dirs: string[]): Promise<void> {
  dirs.push(resolve(dir));
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out, dirs);
    else if (e.isFile() && YAML.test(e.name)) out.push(p);
  }
}

/** Reads every policy (`*.yaml`) and test (`*.test.yaml`) file under files or directories. */
export async function readPolicyFiles(paths: readonly string[], cwd: string = process.cwd()): Promise<PolicyFiles> {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new WardenError('policy.io', `policy path \`${p}\` does not exist`, { help: 'pass a policy file or a directory of *.yaml files' });
    }
    if (st.isDirectory()) await walk(p, files, dirs);
    else {
      files.push(p);
      dirs.push(dirname(resolve(p)));
    }
  }
  const sources: PolicySource[] = [];
  const tests: PolicySource[] = [];
  for (const f of [...new Set(files)]) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      throw new WardenError('policy.io', `cannot read policy file \`${f}\`: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const name = relative(cwd, f) || f;
    (TEST.test(f) ? tests : sources).push({ file: name, text });
  }
  return { sources, tests, dirs: [...new Set(dirs)] };
}

/**
 * A digest of policy sources (names and texts, in name order): equal digests mean the same set, so
 * a reload compiles only when it differs.
 */
export function digestSources(sources: readonly PolicySource[]): string {
  const h = createHash('sha256');
  for (const s of [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    h.update(s.file).update('\0').update(s.text).update('\0');
  }
  return h.digest('hex');
}
