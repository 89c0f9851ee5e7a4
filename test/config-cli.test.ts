import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATEWAY_SETTINGS, SERVE_SETTINGS, wardenJsonSchema, type Setting } from '../src/config/index.js';
import { registerGateway } from '../src/cli/commands/gateway.js';
import { registerServe } from '../src/cli/commands/serve.js';
import type { CliIo } from '../src/cli/io.js';
import { cli } from './support/cli.js';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'warden-config-cli-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

/** The schema node at a path of property names under `spec`, or undefined. */
function schemaAt(path: readonly string[]): unknown {
  let node = (wardenJsonSchema().properties as Record<string, { properties?: Record<string, unknown> }>).spec as { properties?: Record<string, unknown> } | undefined;
  for (const k of path) node = node?.properties?.[k] as typeof node;
  return node;
}

describe('every flag of serve and gateway has its place in warden.yaml', () => {
  const io: CliIo = { stdout: () => {}, stderr: () => {}, env: {}, cwd: ROOT, untilStopped: () => Promise.resolve() };
  for (const [name, register, table] of [
    ['serve', registerServe, SERVE_SETTINGS],
    ['gateway', registerGateway, GATEWAY_SETTINGS],
  ] as const) {
    it(`\`warden ${name}\`: each option is a setting with a file path the JSON Schema has`, () => {
      const program = new Command('warden');
      register(program, io, () => {});
      const cmd = program.commands[0]!;
      const settings = table as Record<string, Setting>;
      for (const o of cmd.options) {
        if (o.long === '--config') continue; // the file itself
        const s = settings[o.attributeName()];
        expect(s, `${name} ${o.long}`).toBeDefined();
        expect(s!.option, `${name} ${o.long}`).toBe(o.long);
        expect(s!.file, `${name} ${o.long}`).toBeDefined();
        expect(schemaAt(s!.file!), `${name} ${o.long} → spec.${s!.file!.join('.')}`).toBeDefined();
      }
      // And no setting names a flag the command does not have.
      const longs = new Set(cmd.options.map((o) => o.long));
      for (const [key, s] of Object.entries(settings)) if (s.option) expect(longs.has(s.option), `${name}: ${key} names ${s.option}`).toBe(true);
    });
  }
});

describe('`warden config check`', () => {
  const good = write(
    'warden.yaml',
    `# yaml-language-server: $schema=../schemas/warden.schema.json
apiVersion: warden.dev/v1
kind: Warden
spec:
  policies: [${join(ROOT, 'examples', 'policies')}]
  databaseUrl: postgres://warden:s3cret-pw@db.internal:5432/warden
  serve: { port: 9000 }
  gateway:
    scope: acme/platform
    servers: [{ name: gh, command: npx, env: { GITHUB_TOKEN: ghp_secret_value } }]
    agents: [{ id: bot, token: a-long-static-token-123 }]
`,
  );

  it('prints the resolved configuration of serve and gateway with secrets masked, and where each setting came from', async () => {
    const r = await cli(['config', 'check', good], { env: { WARDEN_PORT: '9100' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const secret of ['s3cret-pw', 'ghp_secret_value', 'a-long-static-token-123']) expect(r.stdout).not.toContain(secret);
    const out = parse(r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n')) as { serve: Record<string, unknown>; gateway: { servers: Array<{ env: Record<string, string> }> } };
    expect(out.serve).toMatchObject({ port: 9100, databaseUrl: 'postgres://warden:****@db.internal:5432/warden' });
    expect(out.gateway.servers[0]!.env).toEqual({ GITHUB_TOKEN: '****' });
    expect(r.stdout).toContain('port (env)');
    expect(r.stdout).toContain('databaseUrl (file)');
  });

  it('reads WARDEN_CONFIG when no file is given, and answers JSON with --json', async () => {
    const r = await cli(['config', 'check', '--json'], { env: { WARDEN_CONFIG: good } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; ok: boolean; commands: { serve: { config: { port: number }; sources: Record<string, string> } } };
    expect(out).toMatchObject({ file: good, ok: true });
    expect(out.commands.serve.config.port).toBe(9000);
    expect(out.commands.serve.sources.port).toBe('file');
  });

  it('prints each error with file:line:col and exits 1: an unknown key, a wrong type', async () => {
    const bad = write('bad.yaml', 'apiVersion: warden.dev/v1\nkind: Warden\nspec:\n  serve:\n    prot: 1\n    port: "x"\n');
    const r = await cli(['config', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error[config.invalid]: ${bad}:5:5: \`/spec/serve\` unknown field \`prot\``);
    expect(r.stderr).toContain(`error[config.invalid]: ${bad}:6:11: \`/spec/serve/port\` must be integer`);
  });

  it('exits 1 naming the command a valid file cannot start with the environment: a TLS key without its certificate', async () => {
    const r = await cli(['config', 'check', write('empty.yaml', 'apiVersion: warden.dev/v1\nkind: Warden\nspec: {}\n')], { env: { WARDEN_TLS_KEY: '/k.pem' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[config.invalid]: serve: --tls-key is given without --tls-cert');
  });

  it('exits 2 for a file it cannot read', async () => {
    const r = await cli(['config', 'check', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read the configuration file');
  });
});

describe('serve and gateway read --config and WARDEN_CONFIG', () => {
  it('`warden serve --config` refuses a bad file before it starts, with file:line:col', async () => {
    const bad = write('serve-bad.yaml', 'apiVersion: warden.dev/v1\nkind: Warden\nspec:\n  serve: { port: 99999 }\n');
    const r = await cli(['serve', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error\\[config\\.invalid\\]: ${bad.replace(/[.]/g, '\\.')}:4:18: \`/spec/serve/port\` must be <= 65535`));
  });

  it('`warden gateway` takes its scope from WARDEN_CONFIG, and a flag beats it', async () => {
    const gw = write('gw.yaml', 'apiVersion: warden.dev/v1\nkind: Warden\nspec:\n  gateway: { scope: acme/file }\n');
    // No policies anywhere: the start stops at that check, after the scope was found in the file.
    const fromFile = await cli(['gateway', '--stdio', '--', 'node'], { env: { WARDEN_CONFIG: gw } });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain('no policies given');
    const noScope = write('gw-noscope.yaml', 'apiVersion: warden.dev/v1\nkind: Warden\nspec: {}\n');
    expect((await cli(['gateway', '--stdio', '--config', noScope, '--', 'node'])).stderr).toContain('no scope');
    expect((await cli(['gateway', '--stdio', '--config', noScope, '--scope', 'acme', '--', 'node'])).stderr).toContain('no policies given');
  });
});
