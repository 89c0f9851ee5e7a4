import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_SCHEMA_PATH, renderConfigSchema } from '../../scripts/gen-config-schema.js';
import { checkConfigFile, loadConfigFile, readConfigFile, wardenJsonSchema } from './warden-file.js';

const ROOT = join(import.meta.dirname, '..', '..');
const head = 'apiVersion: warden.dev/v1\nkind: Warden\nspec:\n';

describe('warden.yaml', () => {
  it('reads shared, serve and gateway settings; paths are relative to the file', () => {
    const spec = readConfigFile(
      '/etc/warden/warden.yaml',
      `${head}  policies: [policies, /abs/policies]\n  dataDir: data\n  databaseUrl: postgres://warden@db/warden\n  serve: { port: 9090, tlsCert: tls/cert.pem, tlsKey: tls/key.pem }\n  gateway:\n    scope: acme/platform\n    servers: [{ name: files, command: npx }]\n    sessions: { maxPerAgent: 3 }\n`,
    );
    expect(spec.policies).toEqual(['/etc/warden/policies', '/abs/policies']);
    expect(spec.dataDir).toBe('/etc/warden/data');
    expect(spec.serve).toEqual({ port: 9090, tlsCert: '/etc/warden/tls/cert.pem', tlsKey: '/etc/warden/tls/key.pem' });
    expect(spec.gateway?.scope).toBe('acme/platform');
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it('refuses an unknown key with `config.invalid` at the key’s line and column', () => {
    const r = checkConfigFile('w.yaml', `${head}  serve:\n    port: 8080\n    prot: 9090\n`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'config.invalid', message: '`/spec/serve` unknown field `prot`', span: { file: 'w.yaml', line: 6, col: 5 } });
    expect(r.errors[0]!.format()).toMatch(/^w\.yaml:6:5: `\/spec\/serve` unknown field `prot` \(help: /);
  });

  it('refuses a wrong type at the value, and reports every problem, not only the first', () => {
    const r = checkConfigFile('w.yaml', `${head}  serve: { port: eighty, behindProxy: 1 }\n  policies: policies\n`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.message, e.span?.line, e.span?.col])).toEqual([
      ['`/spec/policies` must be array', 5, 13],
      ['`/spec/serve/port` must be integer', 4, 18],
      ['`/spec/serve/behindProxy` must be boolean', 4, 39],
    ]);
  });

  it('refuses YAML that does not parse, a wrong kind, a duplicate key, and half a TLS pair, each with its place', () => {
    expect(() => readConfigFile('w.yaml', `${head}  serve: { port: 1\n`)).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('not valid YAML'), span: expect.objectContaining({ file: 'w.yaml' }) }));
    expect(() => readConfigFile('w.yaml', 'apiVersion: warden.dev/v1\nkind: Policy\nspec: {}\n')).toThrow(expect.objectContaining({ message: '`/kind` must be `Warden`', span: { file: 'w.yaml', line: 2, col: 7 } }));
    expect(() => readConfigFile('w.yaml', `${head}  dataDir: a\n  dataDir: b\n`)).toThrow(expect.objectContaining({ message: expect.stringContaining('not valid YAML'), span: expect.objectContaining({ line: 5 }) }));
    expect(() => readConfigFile('w.yaml', `${head}  serve: { tlsCert: c.pem }\n`)).toThrow(expect.objectContaining({ message: '`tlsCert` is given without `tlsKey`' }));
  });

  it('reads a `kind: Gateway` file as the gateway section, its redis as the shared one', () => {
    const spec = readConfigFile('gw.yaml', 'apiVersion: warden.dev/v1\nkind: Gateway\nspec:\n  scope: acme\n  redis: redis://r:6379\n  servers: [{ name: files, command: node }]\n');
    expect(spec).toEqual({ redis: 'redis://r:6379', gateway: { scope: 'acme', servers: [{ name: 'files', command: 'node' }] } });
    // The gateway file keeps its own rules: scope and servers are required there.
    expect(() => readConfigFile('gw.yaml', 'apiVersion: warden.dev/v1\nkind: Gateway\nspec: { servers: [{ name: f, command: n }] }\n')).toThrow(/scope/);
  });

  it('names a file it cannot read with `config.invalid`', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'warden-file-')), 'nope.yaml');
    await expect(loadConfigFile(missing)).rejects.toMatchObject({ code: 'config.invalid', message: `cannot read the configuration file \`${missing}\`` });
  });
});

describe('schemas/warden.schema.json', () => {
  it('is the JSON Schema generated from the TypeBox schema (regenerate: npx tsx scripts/gen-config-schema.ts)', () => {
    expect(readFileSync(join(ROOT, CONFIG_SCHEMA_PATH), 'utf8')).toBe(renderConfigSchema());
  });

  it('accepts examples/warden.yaml and refuses what the loader refuses, as an editor would', () => {
    const validate = new Ajv({ strict: false }).compile(wardenJsonSchema());
    const text = readFileSync(join(ROOT, 'examples', 'warden.yaml'), 'utf8');
    expect(text).toMatch(/^# yaml-language-server: \$schema=\.\.\/schemas\/warden\.schema\.json$/m);
    expect(validate(parse(text))).toBe(true);
    expect(readConfigFile(join(ROOT, 'examples', 'warden.yaml'), text).serve?.port).toBe(8080);
    expect(validate({ apiVersion: 'warden.dev/v1', kind: 'Warden', spec: { serve: { port: 8080 } } })).toBe(true);
    expect(validate({ apiVersion: 'warden.dev/v1', kind: 'Warden', spec: { serve: { prot: 8080 } } })).toBe(false);
  });
});
