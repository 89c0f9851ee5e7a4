import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Credential } from '../src/identity/index.js';
import { createCore } from '../src/main/index.js';
import { cli } from './support/cli.js';

// Issue 13 item 4: GitOps stays first-class. `warden policy push DIR` turns files into managed
// versions, `warden policy pull DIR` writes the active set back byte for byte.

const reviewer: Credential = { tenantId: 'default', method: 'token', id: 'reviewer-token', name: 'reviewer', principal: 'alice', grants: [{ role: 'admin' }] };

/** The example policies and the test fixtures, each as a file of its own under one directory. */
function sourceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-push-'));
  for (const f of readdirSync('examples/policies')) if (!f.endsWith('.test.yaml')) cpSync(join('examples/policies', f), join(dir, f));
  mkdirSync(join(dir, 'fixtures'));
  for (const f of readdirSync('test/fixtures/scanning-policies')) cpSync(join('test/fixtures/scanning-policies', f), join(dir, 'fixtures', f));
  return dir;
}

const bytesOf = (dir: string, rel: string) => readFileSync(join(dir, rel));

describe('warden policy push / pull (on the embedded database)', () => {
  it('push → review by a second person → activate → pull round-trips the files byte for byte', { timeout: 60_000 }, async () => {
    const src = sourceDir();
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-push-db-'));
    const files = ['acme.yaml', 'fixtures/globex.yaml'];

    const dry = await cli(['policy', 'push', src, '--data-dir', dataDir, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would-change');
    expect(dry.stdout).toContain('+++ acme.yaml');

    const first = await cli(['policy', 'push', src, '--data-dir', dataDir, '--activate', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const results = JSON.parse(first.stdout).results as { file: string; name: string; outcome: string; version: number }[];
    // The default scope setting needs one approval by someone else: nothing is active yet.
    expect(results.map((r) => [r.file, r.name, r.outcome, r.version]).sort()).toEqual([
      ['acme.yaml', 'acme', 'awaiting-approval', 1],
      ['fixtures/globex.yaml', 'globex', 'awaiting-approval', 1],
    ]);

    // A second person approves (the pusher, the local operator, may not approve their own push).
    const core = await createCore({ database: { dataDir }, policies: [] }, { logger: pino({ level: 'silent' }) });
    try {
      for (const name of ['acme', 'globex']) await core.managedPolicies.approve(reviewer, name, 1, 'ok');
    } finally {
      await core.close();
    }
    const second = await cli(['policy', 'push', src, '--data-dir', dataDir, '--activate', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout).results as { outcome: string }[]).map((r) => r.outcome)).toEqual(['active', 'active']);

    const out = mkdtempSync(join(tmpdir(), 'warden-pull-'));
    const pulled = await cli(['policy', 'pull', out, '--data-dir', dataDir]);
    expect(pulled.code, pulled.stderr).toBe(0);
    for (const f of files) expect(bytesOf(out, f).equals(bytesOf(src, f)), f).toBe(true);

    // Pushing the same files again changes nothing; an edit is a new draft that changes no decision yet.
    const again = await cli(['policy', 'push', src, '--data-dir', dataDir, '--json']);
    expect((JSON.parse(again.stdout).results as { outcome: string }[]).map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    writeFileSync(join(src, 'acme.yaml'), `${readFileSync(join(src, 'acme.yaml'), 'utf8')}# edited\n`);
    const edit = await cli(['policy', 'push', src, '--data-dir', dataDir, '--json']);
    expect(JSON.parse(edit.stdout).results[0]).toMatchObject({ name: 'acme', outcome: 'updated', version: 2 });
    const out2 = mkdtempSync(join(tmpdir(), 'warden-pull-'));
    await cli(['policy', 'pull', out2, '--data-dir', dataDir]);
    expect(bytesOf(out2, 'acme.yaml').equals(bytesOf(out, 'acme.yaml'))).toBe(true);
  });

  it('refuses a file whose name is not a policy name, and pulls nothing when nothing is active', async () => {
    const src = mkdtempSync(join(tmpdir(), 'warden-push-'));
    writeFileSync(join(src, 'Bad Name.yaml'), 'apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n');
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-push-db-'));
    const r = await cli(['policy', 'push', src, '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a name');
    const out = mkdtempSync(join(tmpdir(), 'warden-pull-'));
    const p = await cli(['policy', 'pull', out, '--data-dir', dataDir]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('no active managed policy');
  });
});

describe('warden policy push / pull through WARDEN_URL', () => {
  it('pushes as the token, a second token approves over the API, pull writes the same bytes', { timeout: 60_000 }, async () => {
    const { loadConfig } = await import('../src/config/index.js');
    const { startServer } = await import('../src/main/index.js');
    const { roleTokens } = await import('./support/api-core.js');
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-push-remote-'));
    const server = await startServer(loadConfig({ port: 0, dataDir, policies: [], logLevel: 'silent', watch: false }, {}), { logger: pino({ level: 'silent' }) });
    try {
      const tokens = await roleTokens(server.core);
      const env = (token: string) => ({ WARDEN_URL: server.url, WARDEN_TOKEN: token, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'warden-cfg-')) });
      const src = sourceDir();
      const first = await cli(['policy', 'push', src, '--activate', '--json'], { env: env(tokens.policy_author) });
      expect(first.code, first.stderr).toBe(0);
      expect((JSON.parse(first.stdout).results as { outcome: string }[]).map((r) => r.outcome)).toEqual(['awaiting-approval', 'awaiting-approval']);
      // The database's flags make no sense through a server.
      expect((await cli(['policy', 'push', src, '--tenant', 'x'], { env: env(tokens.policy_author) })).code).toBe(2);
      for (const name of ['acme', 'globex']) {
        const res = await fetch(`${server.url}/api/v1/policies/${name}/versions/1/approve`, { method: 'POST', headers: { authorization: `Bearer ${tokens.admin}` } });
        expect(res.status, await res.text()).toBe(200);
      }
      const second = await cli(['policy', 'push', src, '--activate', '--json'], { env: env(tokens.policy_author) });
      expect((JSON.parse(second.stdout).results as { outcome: string }[]).map((r) => r.outcome)).toEqual(['active', 'active']);
      const out = mkdtempSync(join(tmpdir(), 'warden-pull-'));
      const pulled = await cli(['policy', 'pull', out], { env: env(tokens.viewer) });
      expect(pulled.code, pulled.stderr).toBe(0);
      for (const f of ['acme.yaml', 'fixtures/globex.yaml']) expect(bytesOf(out, f).equals(bytesOf(src, f)), f).toBe(true);
      await server.core.flush();
      const created = (await server.core.auditLog.list({ type: 'policy.version.created', limit: 10 })).events;
      expect(created.map((e) => e.actor.name)).toEqual(['test-policy_author', 'test-policy_author']);
      // A viewer may read and pull, not push a change.
      writeFileSync(join(src, 'acme.yaml'), `${readFileSync(join(src, 'acme.yaml'), 'utf8')}# edited\n`);
      const denied = await cli(['policy', 'push', src], { env: env(tokens.viewer) });
      expect(denied.code).toBe(2);
      expect(denied.stderr).toContain('auth.forbidden');
    } finally {
      await server.close();
    }
  });
});
