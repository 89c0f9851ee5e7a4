import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_DOCS_PATH, renderErrorDocs } from '../scripts/gen-error-docs.js';
import { AUDIT_EVENT_TYPES, ERROR_CODES, RETIRED_ERROR_CODES } from '../src/domain/index.js';
import { createMemoryRegistryRepo, createRegistry } from '../src/registry/index.js';

// The catalogues are enforced against the source text: every code is reported somewhere, every
// code or event type the source names is catalogued, and docs/errors.md matches the tables.
const ROOT = resolve(import.meta.dirname, '..');
const CATALOGUES = ['src/domain/errors.ts', 'src/domain/audit-event-types.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every src file but the catalogues, with the status table of src/api/errors.ts cut out: mapping a code is not using it. */
const SOURCES = sourceFiles(join(ROOT, 'src'))
  .map((path) => ({ file: relative(ROOT, path).replaceAll('\\', '/'), text: readFileSync(path, 'utf8') }))
  .filter((s) => !CATALOGUES.includes(s.file))
  .map((s) => (s.file === 'src/api/errors.ts' ? { ...s, text: s.text.replace(/export const STATUS_OF[^]*?\n\};/, '') } : s));

function literals(pattern: RegExp): Array<{ value: string; file: string }> {
  return SOURCES.flatMap((s) => [...s.text.matchAll(pattern)].map((m) => ({ value: m[1]!, file: s.file })));
}

const codes = Object.keys(ERROR_CODES);
const retired = Object.keys(RETIRED_ERROR_CODES);
const eventTypes = Object.keys(AUDIT_EVENT_TYPES);
// The first segment of every code (`store`, `lint/`...): a quoted `namespace.word` in src is a code.
const namespaces = [...new Set(codes.filter((c) => c.includes('.')).map((c) => c.split('.')[0]!))];
const CODE_LITERAL = new RegExp(`'((?:${namespaces.join('|')})\\.[a-z_]+|lint/[a-z-]+)'`, 'g');
// Audit event types are three or more segments (`registry.tool.blocked`), or `finding.detected`.
const EVENT_LITERAL = /'((?:tool|resource|prompt|model|registry|audit)(?:\.[a-z_]+){2,}|finding\.[a-z_]+)'/g;

describe('the error catalogue', () => {
  it('defines no code twice: not in two tables, not twice in its file, and never a retired one', () => {
    const all = [...codes, ...retired, ...eventTypes];
    expect(all.filter((c, i) => all.indexOf(c) !== i)).toEqual([]);
    for (const file of CATALOGUES) {
      const keys = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^\s+'([^']+)':/gm)].map((m) => m[1]!);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i), file).toEqual([]);
    }
  });

  it('holds only codes that src reports somewhere', () => {
    const unused = codes.filter((c) => !SOURCES.some((s) => s.text.includes(`'${c}'`)));
    expect(unused, 'remove these codes (move them to RETIRED_ERROR_CODES) or report them').toEqual([]);
  });

  it('holds every code src reports', () => {
    const unknown = literals(CODE_LITERAL).filter((l) => !codes.includes(l.value));
    expect(unknown, 'add these codes to ERROR_CODES in src/domain/errors.ts').toEqual([]);
    // WardenError's signature types its code, so this also catches a code passed as a variable's literal elsewhere.
    const thrown = literals(/new WardenError\(\s*'([^']+)'/g).filter((l) => !codes.includes(l.value));
    expect(thrown).toEqual([]);
    const sent = literals(/\bcode: '([^']+)'/g).filter((l) => !codes.includes(l.value));
    expect(sent).toEqual([]);
  });

  it('holds every audit event type src writes, and only those', () => {
    const unknown = literals(EVENT_LITERAL).filter((l) => !eventTypes.includes(l.value));
    expect(unknown, 'add these types to AUDIT_EVENT_TYPES in src/domain/audit-event-types.ts').toEqual([]);
    // A type built as `${kind}.completed` is written when the suffix template exists in src.
    const written = (t: string) => SOURCES.some((s) => s.text.includes(`'${t}'`) || s.text.includes(`}.${t.split('.').at(-1)}\``));
    expect(eventTypes.filter((t) => !written(t))).toEqual([]);
  });

  it('leaves no bare Error reachable from user input in the store, registry, config, policy, api and audit', () => {
    // Invariants that no input can reach, each with the reason it stays a plain Error.
    const allowed = new Map([
      ['src/store/pglite-dialect.ts', 2], // a COMMIT turned ROLLBACK (callers wrap it) and an unsupported Kysely feature
      ['src/audit/streams/webhook.ts', 1], // a non-2xx answer, recorded as the destination's delivery error and retried
      ['src/policy/test-helpers.ts', 1], // a helper for tests
      ['src/store/audit-copy.ts', 2], // a non-Error throwable made an Error for stream.destroy and pool release; the writer reports audit.write_failed
      ['src/store/db.ts', 1], // the initdb child's failure, wrapped by openPglite as store.unavailable
    ]);
    const owned = /^src\/(store|registry|config|policy|api|audit)\//;
    const bare = SOURCES.filter((s) => owned.test(s.file))
      .map((s) => ({ file: s.file, count: s.text.match(/new Error\(/g)?.length ?? 0 }))
      .filter((b) => b.count !== (allowed.get(b.file) ?? 0));
    expect(bare).toEqual([]);
  });

  it('is what docs/errors.md lists (regenerate with `npx tsx scripts/gen-error-docs.ts`)', () => {
    expect(readFileSync(join(ROOT, ERROR_DOCS_PATH), 'utf8')).toBe(renderErrorDocs());
  });
});

describe('registry.not_found', () => {
  it('is what an unknown server or tool named by a user raises', async () => {
    const repo = createMemoryRegistryRepo();
    const registry = createRegistry({ repo, audit: { append: async () => {} }, clock: { now: () => new Date() }, cacheMs: 0 });
    await expect(registry.block('nope')).rejects.toMatchObject({ code: 'registry.not_found', message: 'server `nope` is not in the registry' });
    await registry.discover({ name: 'ops', scope: 'acme' }, []);
    await expect(registry.approve('ops', 'ghost')).rejects.toMatchObject({ code: 'registry.not_found', message: 'tool `ghost` on server `ops` is not in the registry' });
    await expect(repo.putTool({ server: 'nope' } as Parameters<typeof repo.putTool>[0])).rejects.toMatchObject({ code: 'registry.not_found' });
  });
});
