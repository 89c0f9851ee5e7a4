import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../src/domain/index.js';
import { startGateway } from '../src/main/index.js';
import { cli } from './support/cli.js';
import { freshPostgres, postgresProblem } from './support/databases.js';
import { fakeClock } from './support/fake-clock.js';
import { waitFor } from './support/wait-for.js';
import { EVERYTHING, ROOT, agent, auditEvents, policyDir, textOf } from './fixtures/gateway-harness.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const OPEN = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
`;

/** Starts `warden serve` as its own process and resolves with its URL. */
function serve(args: string[]): Promise<{ url: string; child: ChildProcess; bootstrap: string | undefined }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--log-level', 'warn', '--no-watch', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /Warden is serving at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!.replace('0.0.0.0', '127.0.0.1'), child, bootstrap: /export WARDEN_TOKEN=(wdn_[0-9a-f_]+)/.exec(out)?.[1] });
    });
    child.on('exit', (code) => reject(new Error(`warden serve exited with ${code}:\n${out}`)));
  });
}

async function decide(url: string, agentId: string, token: string): Promise<Decision> {
  const res = await fetch(`${url}/api/v1/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ kind: 'tool.call', scope: 'acme/platform', agent: { id: agentId }, principal: { id: 'bob' }, tool: { server: 'everything', name: 'echo' }, args: { message: 'hi' } }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Decision;
}

const pgProblem = await postgresProblem();

describe('one core: every surface sees the same registry', () => {
  it.skipIf(pgProblem !== undefined)('a `warden registry suspend` on PostgreSQL reaches a running `warden serve` and a gateway within a second, through the same registry stage', async () => {
    const db = await freshPostgres();
    const policies = policyDir(OPEN);
    const keyDir = mkdtempSync(join(tmpdir(), 'warden-one-core-'));
    let child: ChildProcess | undefined;
    try {
      const server = await serve(['--database-url', db.url!, '--policies', policies, '--audit-key', join(keyDir, 'key.pem')]);
      child = server.child;
      // An enforcer asserts the agent and principal, as a gateway would; made on the shared database.
      const minted = await cli(['token', 'create', '--role', 'enforcer', '--name', 'one-core-test', '--database-url', db.url!]);
      expect(minted.code).toBe(0);
      const enforcer = minted.stdout.trim();
      const gateway = await startGateway({
        policies: [policies],
        scope: 'acme/platform',
        upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }],
        database: { url: db.url! },
        upstreamStderr: 'ignore',
        watchPolicies: false,
        logger: pino({ level: 'silent' }),
      });
      try {
        const session = await agent(gateway.gateway, { agentId: 'agent-7' });
        expect((await decide(server.url, 'agent-7', enforcer)).effect).toBe('allow');
        expect((await session.callTool({ name: 'echo', arguments: { message: 'before' } })).isError).toBeFalsy();

        const suspended = await cli(['registry', 'suspend', 'agent-7', '--database-url', db.url!]);
        expect(suspended.code).toBe(0);
        const at = Date.now();
        // The kill switch's promise: every surface refuses within a second (the lookup cache is 500 ms).
        const viaApi = await waitFor(async () => {
          const d = await decide(server.url, 'agent-7', enforcer);
          return d.effect === 'deny' ? d : undefined;
        }, { timeoutMs: 1_000, intervalMs: 25, what: 'warden serve to refuse the suspended agent' });
        const viaGateway = await waitFor(async () => {
          const r = await session.callTool({ name: 'echo', arguments: { message: 'after' } });
          return r.isError ? r : undefined;
        }, { timeoutMs: Math.max(50, 1_000 - (Date.now() - at)), intervalMs: 25, what: 'the gateway to refuse the suspended agent' });
        // The same stage decided both: the registry's refusal, before any policy ran.
        expect(viaApi.reasons[0]).toMatchObject({ policy: 'registry', rule: 'agent-suspended' });
        expect(textOf(viaGateway)).toContain('policy `registry`, rule `agent-suspended`');
        // Another agent is untouched.
        expect((await decide(server.url, 'agent-8', enforcer)).effect).toBe('allow');
        await session.close();
      } finally {
        await gateway.close();
      }
    } finally {
      // Only this test's own server: a test that outlived its timeout must not kill the next one's.
      child?.kill('SIGKILL');
      await db.dispose();
    }
  }, 90_000);
});

describe('one core: the embedded database has one writer', () => {
  it('refuses a CLI write (exit 2, naming the holder) while `warden serve` holds the data directory, and the server state is unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-locked-'));
    const dataDir = join(dir, 'data');
    const server = await serve(['--data-dir', dataDir, '--policies', policyDir(OPEN), '--registry', join(ROOT, 'examples/registry.yaml')]);
    const pid = server.child.pid!;
    const blocked = await cli(['registry', 'block', 'ops', 'shell.run', '--data-dir', dataDir, '--reason', 'while the server runs']);
    expect(blocked.code).toBe(2);
    expect(blocked.stdout).toBe('');
    expect(blocked.stderr).toContain('error[store.locked]');
    expect(blocked.stderr).toContain(`process ${pid}`);
    expect(blocked.stderr).toContain('serve');
    expect(blocked.stderr).toContain('--database-url');
    // A reading command refuses the same way: PGlite cannot share a directory with a writer.
    const tail = await cli(['audit', 'tail', '--no-follow', '--data-dir', dataDir]);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain('error[store.locked]');
    // The server still serves, with the registry as it was.
    expect(server.bootstrap).toMatch(/^wdn_/);
    const res = await fetch(`${server.url}/api/v1/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.bootstrap!}` },
      body: JSON.stringify({ kind: 'tool.call', scope: 'acme/platform', tool: { server: 'ops', name: 'shell.run' } }),
    });
    expect(((await res.json()) as Decision).effect).toBe('allow');
    const stopped = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await stopped).toBe(0);
    // After a clean stop the directory is free, nothing was written behind the server's back, and the log verifies.
    const shown = await cli(['registry', 'show', 'ops', 'shell.run', '--data-dir', dataDir, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'approved' });
    const events = await cli(['audit', 'export', '--data-dir', dataDir, '--no-progress']);
    expect(events.stdout).not.toContain('registry.tool.blocked');
    expect(events.stdout).toContain('registry.tool.imported');
    expect((await cli(['audit', 'verify', '--data-dir', dataDir])).code).toBe(0);
  }, 90_000);
});

describe('one core: a gateway-only process keeps the audit promises of a server', () => {
  it('leaves every event it wrote under a signed checkpoint when it stops', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-gw-seal-'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--stdio', '--policies', policyDir(OPEN), '--scope', 'acme/platform', '--agent', 'alpha', '--data-dir', dataDir, '--', process.execPath, EVERYTHING, 'stdio'],
      cwd: ROOT,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'seal-test', version: '1' });
    await client.connect(transport);
    const exited = new Promise<void>((resolve) => (transport.onclose = () => resolve()));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'sealed?' } }))).toContain('sealed?');
    await client.close();
    await exited;
    await waitFor(async () => (await cli(['audit', 'checkpoints', '--data-dir', dataDir])).code === 0 || undefined, { timeoutMs: 15_000, what: 'the gateway to release its data directory' });

    const verify = await cli(['audit', 'verify', '--data-dir', dataDir, '--format', 'json']);
    expect(verify.code).toBe(0);
    const report = JSON.parse(verify.stdout) as { ok: boolean; tenants: Record<string, { lastSeq: number; checkpoints: number }> };
    expect(report.ok).toBe(true);
    const chain = report.tenants.default!;
    expect(chain.checkpoints).toBeGreaterThanOrEqual(1);
    const cps = (await cli(['audit', 'checkpoints', '--data-dir', dataDir])).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { toSeq: number });
    // Every committed event (the registry's discoveries, the decision, the result) is under the last seal.
    expect(Math.max(...cps.map((c) => c.toSeq))).toBe(chain.lastSeq);
    expect(chain.lastSeq).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('runs retention on its schedule, not only when a server runs', async () => {
    const clock = fakeClock('2026-11-24T12:00:00Z');
    const rt = await startGateway({
      policies: [policyDir(OPEN)],
      scope: 'acme/platform',
      upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }],
      database: { memory: true },
      upstreamStderr: 'ignore',
      watchPolicies: false,
      logger: pino({ level: 'silent' }),
      clock,
      retentionIntervalSec: 0.05,
    });
    try {
      const session = await agent(rt.gateway, { agentId: 'alpha' });
      await session.callTool({ name: 'echo', arguments: { message: 'old news' } });
      await rt.core.retention.setRetention('default', 'decision', 1, { type: 'user', id: 'test' });
      await rt.audit.flush();
      expect((await auditEvents(rt)).some((e) => e.type === 'tool.call.decided')).toBe(true);
      clock.advance(3 * 86_400_000);
      // Nobody calls retention: the gateway's own timer must.
      const removal = await waitFor(async () => (await auditEvents(rt)).find((e) => e.type === 'audit.retention.deleted'), { timeoutMs: 10_000, what: 'a scheduled retention pass' });
      expect(removal.details).toMatchObject({ category: 'decision', days: 1 });
      expect((await auditEvents(rt)).some((e) => e.type === 'tool.call.decided')).toBe(false);
      await session.close();
    } finally {
      await rt.close();
    }
  }, 60_000);
});
