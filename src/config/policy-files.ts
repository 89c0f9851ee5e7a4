import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { WardenError } from '../domain/index.js';
import type { PolicySource } from '../policy/index.js';

/** Policy sources and test files found under the given paths. */
export interface PolicyFiles {
  sources: PolicySource[];
  tests: PolicySource[];
}

const YAML = /\.ya?ml$/;
const TEST = /\.test\.ya?ml$/;

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && YAML.test(e.name)) out.push(p);
  }
}

/** Reads every policy (`*.yaml`) and test (`*.test.yaml`) file under files or directories. */
export async function readPolicyFiles(paths: readonly string[], cwd: string = process.cwd()): Promise<PolicyFiles> {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new WardenError('policy.io', `policy path \`${p}\` does not exist`, { help: 'pass a policy file or a directory of *.yaml files' });
    }
    if (st.isDirectory()) await walk(p, files);
    else files.push(p);
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
  return { sources, tests };
}
