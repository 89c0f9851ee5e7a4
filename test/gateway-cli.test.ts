import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { serverNameOf } from '../src/cli/commands/gateway.js';
import { cli } from './support/cli.js';
import { FILESYSTEM, POLICIES, ROOT, policyDir, textOf } from './fixtures/gateway-harness.js';

async function exited(pid: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) throw new Error(`process ${pid} did not exit`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('warden gateway --stdio (the drop-in wrapper) over server-filesystem', () => {
  it('wraps the server, enforces policy and schemas, and leaves a registry the CLI governs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-gw-cli-'));
    const files = mkdtempSync(join(tmpdir(), 'warden-gw-files-'));
    writeFileSync(join(files, 'note.txt'), 'hello from disk');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--stdio', '--policies', policyDir(POLICIES), '--scope', 'acme/platform', '--agent', 'alpha', '--data-dir', dataDir, '--', process.execPath, FILESYSTEM, files],
      cwd: ROOT,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'cli-test', version: '1' });
    await client.connect(transport);
    const pid = transport.pid!;

    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('read_text_file');
    expect(names).not.toContain('write_file');
    expect(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(files, 'note.txt') } }))).toContain('hello from disk');
    const bad = await client.callTool({ name: 'read_text_file', arguments: { path: 42 } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('`/path` must be string');
    const denied = await client.callTool({ name: 'write_file', arguments: { path: join(files, 'x.txt'), content: 'x' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('Warden denied this call');
    await client.close();
    await exited(pid);

    const list = await cli(['registry', 'list', '--data-dir', dataDir, '--format', 'json']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { servers: Array<{ name: string }>; tools: Array<{ name: string; status: string }> };
    expect(listed.servers.map((s) => s.name)).toEqual(['server-filesystem']);
    expect(listed.tools.find((t) => t.name === 'read_text_file')).toMatchObject({ status: 'pending' });

    expect((await cli(['registry', 'approve', 'server-filesystem', 'read_text_file', '--risk', 'low', '--owner', 'team-a', '--data-dir', dataDir])).stdout).toContain('approved server-filesystem.read_text_file');
    expect((await cli(['registry', 'block', 'server-filesystem', 'write_file', '--reason', 'no writes', '--data-dir', dataDir])).code).toBe(0);
    const shown = await cli(['registry', 'show', 'server-filesystem', 'read_text_file', '--data-dir', dataDir, '--format', 'json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'approved', risk: 'low', owner: 'team-a' });
    const human = await cli(['registry', 'list', '--data-dir', dataDir, '--status', 'blocked']);
    expect(human.stdout).toMatch(/server-filesystem\.write_file\s+blocked/);
    expect((await cli(['registry', 'show', 'nope', '--data-dir', dataDir])).code).toBe(1);
  });

  it('derives a registry name from the wrapped command', () => {
    expect(serverNameOf('npx', ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'])).toBe('server-filesystem');
    expect(serverNameOf('node', ['/x/node_modules/@modelcontextprotocol/server-everything/dist/index.js'])).toBe('server-everything');
    expect(serverNameOf('/usr/local/bin/my-tool.py', [])).toBe('my-tool');
  });

  it('refuses to start without an upstream, a scope or policies', async () => {
    expect((await cli(['gateway', '--stdio', '--scope', 'acme', '--policies', 'x'])).stderr).toContain('no upstream server');
    expect((await cli(['gateway', '--stdio', '--policies', 'x', '--', 'node'])).stderr).toContain('no scope');
  });

  it('refuses an audit mode it does not know, before anything starts', async () => {
    const r = await cli(['gateway', '--stdio', '--scope', 'acme', '--policies', 'x', '--audit-mode', 'after-respond', '--', 'node']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown --audit-mode `after-respond`: use `before-forward` or `before-respond`');
  });
});
