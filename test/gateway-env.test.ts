import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { EVERYTHING, ROOT, policyDir, textOf } from './fixtures/gateway-harness.js';

// The stdio drop-in end to end: an MCP client's `env` block (here GITHUB_TOKEN) reaches the wrapped
// server through `warden gateway`, Warden's own WARDEN_* variables do not, and
// `--upstream-env minimal` restricts the server to the SDK's default variables.

const OPEN = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: open, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call] } }
`;

/** Starts the drop-in over server-everything with an MCP client's environment and returns what `get-env` reports. */
async function wrappedEnv(extraFlags: string[]): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-gw-env-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('WARDEN_')) env[k] = v;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--stdio', '--policies', policyDir(OPEN), '--scope', 'acme/platform', '--data-dir', dataDir, ...extraFlags, '--', process.execPath, EVERYTHING, 'stdio'],
    cwd: ROOT,
    env: { ...env, GITHUB_TOKEN: 'gh-token-from-the-client-config', WARDEN_TEST_SECRET: 'warden-only' },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'env-test', version: '1' });
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: 'get-env', arguments: {} });
    expect(r.isError).toBeFalsy();
    return JSON.parse(textOf(r)) as Record<string, string>;
  } finally {
    await client.close();
  }
}

describe('warden gateway --stdio passes the environment to the wrapped server', () => {
  it('inherits it by default, less WARDEN_*; --upstream-env minimal keeps only the default variables', async () => {
    const [inherited, minimal] = await Promise.all([wrappedEnv([]), wrappedEnv(['--upstream-env', 'minimal'])]);
    expect(inherited.GITHUB_TOKEN).toBe('gh-token-from-the-client-config');
    expect(inherited).not.toHaveProperty('WARDEN_TEST_SECRET');
    expect(minimal).not.toHaveProperty('GITHUB_TOKEN');
    expect(minimal).not.toHaveProperty('WARDEN_TEST_SECRET');
    expect(minimal.PATH).toBe(process.env.PATH);
  }, 120_000);

  it('refuses an unknown --upstream-env mode', async () => {
    const r = await cli(['gateway', '--stdio', '--scope', 'acme', '--policies', 'x', '--upstream-env', 'all', '--', 'node']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown --upstream-env `all`');
  });
});
