import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArchitecture, type Violation } from './support/architecture.js';

// The rules themselves, stated precisely, are in test/support/architecture.ts; each fixture tree under
// test/fixtures/architecture/ holds exactly one kind of defect, so every rule is shown to fire.
const SRC = join(import.meta.dirname, '..', 'src');
const fixture = (name: string) => checkArchitecture(join(import.meta.dirname, 'fixtures', 'architecture', name, 'src'));
const v = (rule: Violation['rule'], file: string, message: string): Violation => ({ rule, file, message });

describe('architecture of src/', () => {
  it('keeps every rule: no cycle, no forbidden edge or folder, env read in config/ and main/ only, no mutable singleton in the core', () => {
    expect(checkArchitecture(SRC)).toEqual([]);
  });
});

describe('the architecture checker', () => {
  it('passes a clean tree: frozen tables, a load-time table, an annotated memo, env in config/ and main/, state outside the core', () => {
    expect(fixture('clean')).toEqual([]);
  });

  it('reports an import cycle with its path; type-only imports, `export … from` and dynamic `import()` are edges', () => {
    expect(fixture('cycle')).toEqual([v('cycle', 'domain/a.ts', 'import cycle: domain/a.ts → domain/b.ts → domain/c.ts → domain/a.ts')]);
  });

  it('reports an import the layer table forbids', () => {
    expect(fixture('layer')).toEqual([v('layer', 'detect/scan.ts', 'detect may not import store (`../store/db.js`)')]);
  });

  it('reports a folder the layer table does not know', () => {
    expect(fixture('unknown-folder')).toEqual([v('unknown-folder', 'utils', 'folder `utils` is not in the layer table')]);
  });

  it('reports every file directly under src/; a root main.ts is read as folder main meanwhile (its env read and imports pass)', () => {
    expect(fixture('root-file')).toEqual([
      v('root-file', 'helpers.ts', 'files directly under src/ are not allowed; put it in a folder'),
      v('root-file', 'main.ts', 'files directly under src/ are not allowed; move it into src/main/'),
    ]);
  });

  it('reports process.env outside config/ and main/, however it is spelled', () => {
    const at = (line: number) => v('process-env', 'gateway/upstream.ts', `reads process.env at line ${line}; only config/main may`);
    expect(fixture('process-env')).toEqual([at(1), at(5), at(6), at(7)]);
  });

  it('reports module-level mutable state in the core: a top-level let, and containers written inside a function', () => {
    expect(fixture('mutable-singleton')).toEqual([
      v('mutable-singleton', 'detect/scratch.ts', 'top-level `const buffer` (line 2) is written inside a function at line 9'),
      v('mutable-singleton', 'detect/scratch.ts', 'top-level `const cache` (line 1) is written inside a function at line 8'),
      v('mutable-singleton', 'detect/scratch.ts', 'top-level `const counts` (line 4) is written inside a function at line 11'),
      v('mutable-singleton', 'detect/scratch.ts', 'top-level `const seen` (line 3) is written inside a function at line 10'),
      v('mutable-singleton', 'domain/ids.ts', 'top-level `let counter` at line 1'),
    ]);
  });

  it('reports an I/O module imported by the core', () => {
    expect(fixture('core-io')).toEqual([v('core-io', 'policy/load.ts', 'the core imports I/O module `node:fs`')]);
  });

  it('reports a file name that is not kebab-case', () => {
    expect(fixture('file-name')).toEqual([v('file-name', 'detect/scanText.ts', 'file name is not kebab-case')]);
  });

  it('reports what the SDK may not load: a value of another layer, a package outside an adapter, a package an adapter does not wrap', () => {
    expect(fixture('sdk-import')).toEqual([
      v('sdk-import', 'sdk/adapters/ai.ts', 'the SDK imports package `zod`; an adapter imports only its framework'),
      v('sdk-import', 'sdk/client.ts', 'the SDK imports a value from domain (`../domain/decision.js`); import types only'),
      v('sdk-import', 'sdk/client.ts', 'the SDK imports package `fastify`; only fetch and its own modules'),
    ]);
  });

  it('reports a relative import that resolves to no file (an edge it could not follow)', () => {
    expect(fixture('unresolved-import')).toEqual([v('unresolved-import', 'detect/scan.ts', '`./missing.js` does not resolve to a file')]);
  });
});
