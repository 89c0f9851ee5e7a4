import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHAPE_DOCS_PATH, withShapeTable } from '../scripts/gen-cel-shape-docs.js';

describe('docs/policy-authoring.md', () => {
  it('shows the declared shape lint checks against (regenerate with `npx tsx scripts/gen-cel-shape-docs.ts`)', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', SHAPE_DOCS_PATH), 'utf8');
    expect(doc).toBe(withShapeTable(doc));
    expect(doc).toContain('| `tool.risk` | one of `"low"`, `"medium"`, `"high"`, `"critical"` |');
  });
});
