import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTPUT_STAGES, STAGES } from '../src/checkpoint/index.js';

// docs/architecture.md draws the checkpoint's stages; the drawing must be the list the code runs.
const DOC = readFileSync(join(import.meta.dirname, '..', 'docs', 'architecture.md'), 'utf8');

function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}\n`);
  expect(start, `docs/architecture.md has no section "${title}"`).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end === -1 ? undefined : end);
}

/** The bare node names of each mermaid flowchart line, in order (labelled nodes like `A[...]` are not stages). */
function diagramLines(text: string): string[][] {
  const mermaid = /```mermaid\n([\s\S]*?)```/.exec(text);
  expect(mermaid, 'the section has a mermaid diagram').not.toBeNull();
  return mermaid![1]!
    .split('\n')
    .filter((l) => l.includes('-->'))
    .map((l) => l.split(/-->|-\.[^.]*\.->/).map((n) => n.trim()).filter((n) => /^[a-z]+$/.test(n)));
}

describe("docs/architecture.md, \"The checkpoint's stages\"", () => {
  const text = section("The checkpoint's stages");

  it('draws STAGES as the input pass and OUTPUT_STAGES as the output pass, in order', () => {
    expect(diagramLines(text)).toEqual([STAGES.map((s) => s.name), OUTPUT_STAGES.map((s) => s.name)]);
  });

  it('says what each stage does and may not do, one row per stage in order', () => {
    const rows = text
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| stage '))
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => r[1])).toEqual([...STAGES, ...OUTPUT_STAGES].map((s) => s.name));
    for (const r of rows) {
      expect(r[2], `row ${r[1]}: what it does`).not.toBe('');
      expect(r[3], `row ${r[1]}: what it may not do`).not.toBe('');
    }
  });
});
