import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, Help } from 'commander';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../src/audit/index.js';
import { TOP_COMMANDS } from '../src/cli/program.js';
import type { CliIo } from '../src/cli/io.js';
import { cli } from './support/cli.js';
import { waitFor } from './support/wait-for.js';

const ROOT = join(import.meta.dirname, '..');

/**
 * The modules a file loads when it is imported: its static imports, transitively. Type-only
 * imports are erased; `import { type X }` still loads its module (verbatimModuleSyntax); dynamic
 * `import()` loads only when it runs, so it is not followed. Packages are returned by name.
 */
function staticClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const st of sf.statements) {
      let spec: string | undefined;
      if (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly && ts.isStringLiteral(st.moduleSpecifier)) spec = st.moduleSpecifier.text;
      if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) spec = st.moduleSpecifier.text;
      if (spec === undefined) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(join(ROOT, entry));
  return { files: new Set([...files].map((f) => f.slice(ROOT.length + 1))), packages };
}

describe('start-up: what a command loads before it runs (issue 11, item 14)', () => {
  it('`warden --help` loads commander and a few small files: no store, detectors, Fastify or MCP SDK', () => {
    const { files, packages } = staticClosure('src/cli/main.ts');
    expect([...packages]).toEqual(['commander']);
    expect([...files].sort()).toEqual(['src/cli/io.ts', 'src/cli/main.ts', 'src/cli/program.ts', 'src/cli/version.ts', 'src/domain/errors.ts', 'src/main/listen-error.ts', 'src/main/process-io.ts']);
  });

  it('`warden gateway` answers `initialize` on modules that load fast: no store, policies, detectors, audit, REST API or HTTP transport', () => {
    const { files, packages } = staticClosure('src/cli/commands/gateway.ts');
    for (const heavy of ['fastify', '@electric-sql/pglite', 'pg', 'kysely', '@marcbachmann/cel-js', '@nats-io/transport-node', 're2-wasm']) expect(packages).not.toContain(heavy);
    const late = /^src\/(store|policy|detect|audit|registry|checkpoint|api)\/|^src\/main\/(core|server|demo|index)\.ts$|^src\/gateway\/transports\/http\.ts$/;
    expect([...files].filter((f) => late.test(f))).toEqual([]);
  });

  it('`warden policy lint|test` load the policy pipeline, not the store, streaming, the MCP SDK or Fastify', () => {
    for (const entry of ['src/cli/commands/policy-lint.ts', 'src/cli/commands/policy-test.ts']) {
      const { packages } = staticClosure(entry);
      for (const heavy of ['fastify', '@electric-sql/pglite', 'pg', 'kysely', '@modelcontextprotocol/sdk', '@nats-io/transport-node', 'ioredis', 'pino']) expect(packages, entry).not.toContain(heavy);
    }
  });

  it('`warden gateway --stdio` answers `initialize` before the wrapped server (or the core) is ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-stdio-start-'));
    // A wrapped server that never answers: before the fix the gateway waited for it (and for the core) before reading stdin.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--stdio', '--scope', 'acme/platform/api', '--policies', join(ROOT, 'examples', 'policies'), '--data-dir', join(dir, 'data'), '--', process.execPath, '-e', 'process.stdin.resume()'],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } } })}\n`);
      await waitFor(() => out.includes('\n'), { timeoutMs: 60_000 });
      const answer = JSON.parse(out.slice(0, out.indexOf('\n'))) as { id: number; result: { serverInfo: { name: string }; capabilities: Record<string, unknown> } };
      expect(answer.id).toBe(1);
      expect(answer.result.serverInfo.name).toBe('warden-gateway');
      expect(Object.keys(answer.result.capabilities)).toEqual(expect.arrayContaining(['tools', 'resources', 'prompts']));
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);

  it('lists each command as its own module registers it', async () => {
    const io: CliIo = { stdout: () => {}, stderr: () => {}, env: {}, cwd: ROOT, untilStopped: () => Promise.resolve() };
    for (const top of TOP_COMMANDS) {
      const cmd = await top.register(new Command('warden'), io, () => {});
      expect({ name: cmd.name(), term: new Help().subcommandTerm(cmd), description: cmd.description() }).toEqual({ name: top.name, term: top.term, description: top.description });
    }
  });

  it('prints the same top-level help whatever is loaded, and each subcommand its own', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const top of TOP_COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${top.term.replace(/[[\].]/g, '\\$&')} +${top.description.slice(0, 20)}`, 'm'));
    const verify = await cli(['audit', 'verify', '--help']);
    expect(verify.stdout).toContain('Usage: warden audit verify [options]');
    expect((await cli(['help', 'policy'])).stdout).toContain('lint [options]');
    const unknown = await cli(['polcy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(Did you mean policy?)');
  });
});

describe('`warden registry resume --help` (issue 11, item 15)', () => {
  it('describes resuming, and suspend describes suspending', async () => {
    const resume = await cli(['registry', 'resume', '--help']);
    expect(resume.stdout).toContain('resume a suspended agent');
    expect(resume.stdout).not.toMatch(/refuses|suspend an agent/);
    expect((await cli(['registry', 'suspend', '--help'])).stdout).toContain('suspend an agent');
  });
});

describe('progress output only on a terminal (issue 11, item 15)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-startup-'));
  const store = ['--data-dir', join(dir, 'data')];
  beforeAll(async () => {
    // The key a server would have created, so the command below seals what it writes (verify fails an unsealed log).
    writeFileSync(`${join(dir, 'data')}.audit-key.pem`, generateSigningKey().privateKeyPem, { mode: 0o600 });
    // Writes an audited registry change: the log has events to verify and export.
    expect((await cli(['registry', 'suspend', 'agent-1', ...store])).code).toBe(0);
  });

  it('`audit verify` writes no carriage return or escape sequence when stderr is not a terminal', async () => {
    const piped = await cli(['audit', 'verify', ...store]);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('OK');
    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr).not.toContain('\x1b');
    const tty = await cli(['audit', 'verify', ...store], { stderrIsTTY: true });
    expect(tty.stderr).toContain('\r\x1b[K');
  });

  it('`audit export` draws its bar through the CLI io on a terminal only', async () => {
    const piped = await cli(['audit', 'export', ...store, '--output', join(dir, 'a.jsonl')]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe(`exported 1 events to ${join(dir, 'a.jsonl')}\n`);
    const tty = await cli(['audit', 'export', ...store, '--output', join(dir, 'b.jsonl')], { stderrIsTTY: true });
    expect(tty.stderr).toContain('exporting [');
    expect(tty.stderr).toContain('\x1b[');
  });
});

describe('`warden serve` on a taken port (issue 11, item 15)', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => taken.close(() => r())));

  it('exits 2 with one line naming the port, before creating the data directory or the signing key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-port-'));
    const dataDir = join(dir, 'data');
    const r = await cli(['serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--policies', join(ROOT, 'examples', 'policies'), '--log-level', 'silent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error[server.port_unavailable]: port ${port} on \`127.0.0.1\` is already in use (help: stop the process that holds it or pass another \`--port\` (or \`--http\` for a gateway))\n`);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(`${dataDir}.audit-key.pem`)).toBe(false);
  });
});
