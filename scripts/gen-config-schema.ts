/**
 * Writes schemas/warden.schema.json, the JSON Schema of warden.yaml, from its TypeBox schema
 * (src/config/warden-file.ts). Editors complete and check warden.yaml with it
 * (`# yaml-language-server: $schema=…`); src/config/warden-file.test.ts fails while it is stale.
 * @example
 * npx tsx scripts/gen-config-schema.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { wardenJsonSchema } from '../src/config/warden-file.js';

/** Where the schema lives, relative to the repository root. */
export const CONFIG_SCHEMA_PATH = join('schemas', 'warden.schema.json');

/** The text of schemas/warden.schema.json for the current schema. */
export function renderConfigSchema(): string {
  return `${JSON.stringify(wardenJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(join(import.meta.dirname, '..', CONFIG_SCHEMA_PATH), renderConfigSchema());
}
