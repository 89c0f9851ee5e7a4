import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOP_COMMANDS } from '../src/cli/program.js';
import { mergeClientConfig } from '../src/cli/mcp-clients.js';
import { tomlStatements } from '../src/cli/toml-tables.js';
import { cli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-client-'));
const WRAPPED = ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/srv/data'];
const base = ['--server', 'files', '--scope', 'acme/platform', '--policies', '/etc/warden/policies'];
// What `warden gateway --stdio` takes: its own options, then the server's command after `--` (docs/gateway.md).
const GATEWAY_ARGS = ['gateway', '--stdio', '--scope', 'acme/platform', '--policies', '/etc/warden/policies', '--server', 'files', '--', ...WRAPPED];

/** The few TOML forms Codex's file holds here, read back: `[a.b]` tables of `key = "string"` and `key = ["strings"]`. */
function readToml(text: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  let table = '';
  for (const s of tomlStatements(text)) {
    const line = text.slice(s.start, s.end).trim();
    if (s.kind === 'header') out[(table = s.name!)] ??= {};
    if (s.kind === 'pair') (out[table] ??= {})[s.name!] = JSON.parse(line.slice(line.indexOf('=') + 1).replace(/\s+#[^"]*$/, '').trim()) as unknown;
  }
  return out;
}

describe('`warden client config` prints each client’s own format', () => {
  it('claude-desktop and cursor: `mcpServers` with command and args', async () => {
    for (const client of ['claude-desktop', 'cursor']) {
      const r = await cli(['client', 'config', client, ...base, '--', ...WRAPPED]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ mcpServers: { files: { command: 'warden', args: GATEWAY_ARGS } } });
    }
  });

  it('vscode: `servers` with `type: stdio`', async () => {
    const r = await cli(['client', 'config', 'vscode', ...base, '--', ...WRAPPED]);
    expect(JSON.parse(r.stdout)).toEqual({ servers: { files: { type: 'stdio', command: 'warden', args: GATEWAY_ARGS } } });
  });

  it('codex: a `[mcp_servers.NAME]` TOML table', async () => {
    const r = await cli(['client', 'config', 'codex', ...base, '--warden', '/usr/local/bin/warden', '--', ...WRAPPED]);
    expect(r.stdout.split('\n')[0]).toBe('[mcp_servers.files]');
    expect(readToml(r.stdout)).toEqual({ 'mcp_servers.files': { command: '/usr/local/bin/warden', args: GATEWAY_ARGS } });
  });

  it('makes relative paths absolute (clients start servers elsewhere), and refuses an unknown client or a bad server name', async () => {
    const r = await cli(['client', 'config', 'cursor', '--server', 'files', '--config', 'warden.yaml', '--', 'node', 's.js'], { cwd: '/home/alice/proj' });
    expect((JSON.parse(r.stdout) as { mcpServers: { files: { args: string[] } } }).mcpServers.files.args.slice(0, 4)).toEqual(['gateway', '--stdio', '--config', '/home/alice/proj/warden.yaml']);
    expect((await cli(['client', 'config', 'zed', '--server', 'files', '--', 'node'])).code).toBe(2);
    expect((await cli(['client', 'config', 'cursor', '--server', 'my.files', '--', 'node'])).code).toBe(2);
  });
});

describe('`warden client config --write` merges into the client’s file', () => {
  it('JSON: keeps the other servers and settings, replaces its own entry, keeps a backup', async () => {
    const file = join(dir, 'claude_desktop_config.json');
    const before = { globalShortcut: 'Ctrl+Space', mcpServers: { memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] }, files: { command: 'old' } } };
    writeFileSync(file, JSON.stringify(before));
    const r = await cli(['client', 'config', 'claude-desktop', ...base, '--write', file, '--', ...WRAPPED]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ globalShortcut: 'Ctrl+Space', mcpServers: { memory: before.mcpServers.memory, files: { command: 'warden', args: GATEWAY_ARGS } } });
    expect(JSON.parse(readFileSync(`${file}.bak`, 'utf8'))).toEqual(before);
    expect(r.stderr).toContain(`updated ${file}`);
  });

  it('creates a missing file and its directory (VS Code’s .vscode/mcp.json in the working directory by default)', async () => {
    const project = mkdtempSync(join(dir, 'proj-'));
    const r = await cli(['client', 'config', 'vscode', ...base, '--write', '--', ...WRAPPED], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const file = join(project, '.vscode', 'mcp.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ servers: { files: { type: 'stdio', command: 'warden', args: GATEWAY_ARGS } } });
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('TOML: keeps other tables and comments, replaces its own table and subtables', async () => {
    const file = join(dir, 'config.toml');
    const before = `model = "o4-mini" # the default\n\n[mcp_servers.files]\ncommand = "old"\nargs = [\n  "a",\n  "b",\n]\n\n[mcp_servers.files.env]\nX = "1"\n\n[mcp_servers.memory]\ncommand = "npx"\nargs = ["-y", "@modelcontextprotocol/server-memory"]\n`;
    writeFileSync(file, before);
    const r = await cli(['client', 'config', 'codex', ...base, '--write', file, '--', ...WRAPPED]);
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('model = "o4-mini" # the default');
    expect(after).not.toContain('X = "1"');
    expect(readToml(after)).toEqual({ '': { model: 'o4-mini' }, 'mcp_servers.memory': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] }, 'mcp_servers.files': { command: 'warden', args: GATEWAY_ARGS } });
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(before);
  });

  it('refuses a malformed file with `client.config_malformed` and leaves it untouched', async () => {
    const cases: Array<[string, string, string]> = [
      ['cursor', 'mcp.json', '{ "mcpServers": { "memory": { "command": "npx", } }'],
      ['cursor', 'array.json', '[1, 2]'],
      ['vscode', 'servers.json', '{ "servers": [] }'],
      ['codex', 'bad.toml', '[mcp_servers.memory\ncommand = "npx"\n'],
      ['codex', 'string.toml', '[mcp_servers.memory]\ncommand = "npx\n'],
      ['codex', 'inline.toml', 'mcp_servers.files = { command = "x" }\n'],
    ];
    for (const [client, name, text] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = await cli(['client', 'config', client, ...base, '--write', file, '--', ...WRAPPED]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toMatch(/^error\[client\.config_malformed\]: /);
      expect(readFileSync(file, 'utf8'), name).toBe(text);
      expect(existsSync(`${file}.bak`), name).toBe(false);
    }
  });

  it('reads TOML forms a Codex file may hold without refusing them', () => {
    const text = `# comment\n[profiles."o3 high"]\nmodel = 'o3'\ninstructions = """\nline "one"\n[not a table]\n"""\n[[notes]]\ntext = "x # not a comment"\nnested = { a = [1, 2], b = { c = "d" } }\n`;
    expect(() => mergeClientConfig('codex', text, 'files', { command: 'warden', args: [] }, 'c.toml')).not.toThrow();
    expect(mergeClientConfig('codex', text, 'files', { command: 'warden', args: [] }, 'c.toml').startsWith(text)).toBe(true);
  });
});

describe('`warden completion`', () => {
  const scripts: Record<string, string> = {};
  it('writes bash, zsh and fish scripts that mention every top-level command', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await cli(['completion', shell]);
      expect(r.code, r.stderr).toBe(0);
      scripts[shell] = r.stdout;
      for (const top of TOP_COMMANDS) expect(r.stdout, `${shell}: ${top.name}`).toContain(top.name);
    }
    expect(scripts.fish).toContain(`-n "__warden_at 'audit'" -a 'verify'`);
    expect(scripts.zsh).toMatch(/^#compdef warden/);
    expect((await cli(['completion', 'powershell'])).code).toBe(2);
  });

  it('bash: the script parses (`bash -n`) and completes commands, subcommands and options', () => {
    const file = join(dir, 'warden.bash');
    writeFileSync(file, scripts.bash!);
    execFileSync('bash', ['-n', file]);
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `source ${file}; COMP_WORDS=(warden ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _warden; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' }).trim().split('\n');
    expect(complete('')).toEqual(expect.arrayContaining(TOP_COMMANDS.map((t) => t.name)));
    expect(complete('au')).toEqual(['audit']);
    expect(complete('audit', 'ver')).toEqual(['verify']);
    expect(complete('audit', 'verify', '--data-d')).toEqual(['--data-dir']);
    expect(complete('config', 'check', '--js')).toEqual(['--json']);
    expect(complete('client', 'config', '--wr')).toEqual(['--write']);
    // An option's value is not a command: `--data-dir serve` stays in `audit verify`.
    expect(complete('audit', 'verify', '--data-dir', 'serve', '--for')).toEqual(['--format']);
  });
});
