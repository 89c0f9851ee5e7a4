import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import type { AuditEvent } from '../src/domain/index.js';
import { tokenIdOf, type Role } from '../src/identity/index.js';
import { startServer, type RunningServer } from '../src/main/index.js';
import { credentialsFile } from '../src/cli/remote.js';
import { cli } from './support/cli.js';
import { operator, roleTokens } from './support/api-core.js';

// The CLI against a running `warden serve` (WARDEN_URL + a token) and, once it stops, on the same
// database directly (issue 12, items 4 and 5): the same commands print the same output, every change
// through the server is an audit event naming the token, and a token sees its own tenant only.

const dir = mkdtempSync(join(tmpdir(), 'warden-cli-remote-'));
const dataDir = join(dir, 'data');
const configHome = join(dir, 'config');
const policyDir = join(dir, 'policies');
const destinations = join(dir, 'destinations.yaml');

let server: RunningServer | undefined;
let url: string;
let tokens: Record<Role, string>;
let tokensB: Record<Role, string>;
/** An admin at `acme/p2` only, and a viewer at `acme/p1` only. */
let adminP2: string;
let viewerP1: string;

const tool = (name: string, description: string) => ({ name, description, inputSchema: { type: 'object', properties: { path: { type: 'string' } } } });

/** The environment of a CLI run through the server as `token` (none: no WARDEN_TOKEN). */
function remote(token?: string): Record<string, string> {
  return { WARDEN_URL: url, XDG_CONFIG_HOME: configHome, ...(token ? { WARDEN_TOKEN: token } : {}) };
}
const direct = ['--data-dir', dataDir];
const actorIdOf = (secret: string) => `token:${tokenIdOf(secret)}`;

async function events(type: string, tenant = 'default'): Promise<AuditEvent[]> {
  return (await server!.core.auditLog.list({ tenant, type, limit: 100 })).events;
}

beforeAll(async () => {
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, 'p.yaml'), 'apiVersion: warden.dev/v1\nkind: Policy\nmetadata: { name: baseline, scope: acme }\nspec:\n  rules:\n    - { name: reads, effect: allow, match: { tools: ["*.read*"] } }\n');
  writeFileSync(destinations, 'apiVersion: warden.dev/v1\nkind: AuditDestination\nmetadata: { name: siem }\nspec: { webhook: { url: "http://127.0.0.1:9/none", secretEnv: SIEM_SECRET } }\n');
  const config = loadConfig({ port: 0, dataDir, policies: [policyDir], logLevel: 'silent', watch: false, destinations }, {});
  server = await startServer(config, { logger: pino({ level: 'silent' }), env: { SIEM_SECRET: 'x' } });
  url = server.url;
  const core = server.core;
  tokens = await roleTokens(core);
  await core.identity.createTenant(undefined, { id: 'tenant-b', name: 'Tenant B' });
  tokensB = await roleTokens(core, 'tenant-b');
  adminP2 = (await core.identity.createToken(operator(), { name: 'admin-p2', role: 'admin', scope: 'acme/p2' })).token;
  viewerP1 = (await core.identity.createToken(operator(), { name: 'viewer-p1', role: 'viewer', scope: 'acme/p1' })).token;
  await core.registry.discover({ name: 'files', scope: 'acme/p1' }, [tool('read_file', 'Reads a file'), tool('write_file', 'Writes a file')]);
  await core.registry.discover({ name: 'ops', scope: 'acme/p2' }, [tool('deploy', 'Deploys the service')]);
  await core.registry.forTenant('tenant-b').discover({ name: 'b-files', scope: 'b' }, [tool('read_file', 'Reads a file')]);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('warden registry through WARDEN_URL', () => {
  it('approves, blocks, suspends and resumes as the token: each change is an audit event naming it', async () => {
    const env = remote(tokens.owner);
    const approved = await cli(['registry', 'approve', 'files', 'read_file', '--risk', 'low', '--owner', 'team-a', '--capabilities', 'filesystem'], { env });
    expect(approved).toMatchObject({ code: 0, stdout: 'approved files.read_file\n' });
    expect(await cli(['registry', 'block', 'files', 'write_file', '--reason', 'no writes'], { env })).toMatchObject({ code: 0, stdout: 'blocked files.write_file\n' });
    expect(await cli(['registry', 'approve', 'ops'], { env })).toMatchObject({ code: 0, stdout: 'approved server ops\n' });
    expect(await cli(['registry', 'suspend', 'agent-7'], { env })).toMatchObject({ code: 0, stdout: 'suspended agent agent-7\n' });
    expect(await cli(['registry', 'resume', 'agent-7'], { env })).toMatchObject({ code: 0, stdout: 'resumed agent agent-7\n' });
    expect(await cli(['registry', 'suspend', 'agent-8'], { env })).toMatchObject({ code: 0 });

    const owner = { type: 'user', id: actorIdOf(tokens.owner), name: 'test-owner', authMethod: 'token' };
    for (const type of ['registry.tool.approved', 'registry.tool.blocked', 'registry.server.approved', 'registry.agent.suspended', 'registry.agent.resumed']) {
      const [e] = await events(type);
      expect(e?.actor, type).toMatchObject(owner);
      // The address and client the change came from are kept with it.
      expect(e?.actor.ip).toBe('127.0.0.1');
    }
    const [tool] = await events('registry.tool.approved');
    expect(tool).toMatchObject({ scope: 'acme/p1', target: { kind: 'tool', server: 'files', name: 'files.read_file' } });
    // Agents belong to the whole tenant: their events are filed at its root scope.
    expect((await events('registry.agent.suspended'))[0]?.scope).toBe('default');
    const shown = await cli(['registry', 'show', 'files', 'read_file', '--json'], { env });
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'approved', risk: 'low', owner: 'team-a', capabilities: ['filesystem'] });
  });

  it("refuses a viewer's change with exit 2 and the reason, and changes nothing", async () => {
    const r = await cli(['registry', 'block', 'files', 'read_file'], { env: remote(tokens.viewer) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[auth.forbidden]');
    expect(r.stderr).toContain('needs one of the roles `owner`, `admin`; this credential holds `viewer`');
    expect(r.stdout).toBe('');
    const shown = await cli(['registry', 'show', 'files', 'read_file', '--json'], { env: remote(tokens.viewer) });
    expect(JSON.parse(shown.stdout).status).toBe('approved');
  });

  it("holds a scoped role to its scope: an admin of another scope gets 404, a viewer of another scope sees nothing of it", async () => {
    const other = await cli(['registry', 'approve', 'files', 'write_file'], { env: remote(adminP2) });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('[registry.not_found]');
    expect(await cli(['registry', 'block', 'ops', 'deploy', '--reason', 'freeze'], { env: remote(adminP2) })).toMatchObject({ code: 0, stdout: 'blocked ops.deploy\n' });
    const listed = await cli(['registry', 'list'], { env: remote(viewerP1) });
    expect(listed.stdout).toContain('files.read_file');
    expect(listed.stdout).not.toContain('ops');
    // A viewer at the server's scope reads it but may not change it.
    const denied = await cli(['registry', 'approve', 'files', 'write_file'], { env: remote(viewerP1) });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('[auth.forbidden]');
  });

  it("keeps tenants apart: tenant B's token neither sees nor changes tenant A's registry", async () => {
    const env = remote(tokensB.owner);
    const list = await cli(['registry', 'list'], { env });
    expect(list.stdout).toContain('b-files.read_file');
    expect(list.stdout).not.toContain('files.read_file\n');
    expect(list.stdout).not.toMatch(/^server (files|ops) /m);
    expect(list.stdout).not.toContain('agent-7');
    expect(await cli(['registry', 'show', 'files'], { env })).toMatchObject({ code: 1 });
    const block = await cli(['registry', 'block', 'files'], { env });
    expect(block.code).toBe(2);
    expect(block.stderr).toContain('[registry.not_found]');
    const suspend = await cli(['registry', 'suspend', 'agent-7'], { env });
    expect(suspend.code).toBe(0);
    // Suspending "agent-7" in tenant B registered B's own agent; A's is untouched, and the event is in B's chain.
    expect((await cli(['registry', 'list', '--json'], { env: remote(tokens.owner) })).stdout).toContain('"id": "agent-7",\n      "status": "active"');
    expect((await events('registry.agent.suspended', 'tenant-b'))[0]?.actor.id).toBe(actorIdOf(tokensB.owner));
    expect((await cli(['registry', 'list'], { env: remote(tokens.owner) })).stdout).not.toContain('b-files');
  });

  it('answers a wrong token with 401 and its help, and no token with how to give one', async () => {
    const wrong = await cli(['registry', 'list'], { env: remote('wdn_000000000000_notavalidtoken') });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('[auth.invalid_token]');
    expect(wrong.stderr).toContain('help: tokens look like `wdn_…`');
    const none = await cli(['registry', 'list'], { env: remote() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('[auth.required]');
    expect(none.stderr).toContain('set WARDEN_TOKEN or run `warden login`');
  });

  it('refuses the database flags while WARDEN_URL is set', async () => {
    for (const flags of [['--tenant', 'tenant-b'], direct]) {
      const r = await cli(['registry', 'list', ...flags], { env: remote(tokens.owner) });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('WARDEN_URL is set');
    }
  });
});

describe('warden login', () => {
  it('keeps the token in a file only its user reads, and later commands use it', async () => {
    const login = await cli(['login'], { env: remote(tokens.admin) });
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('as test-admin (tenant default: admin)');
    const file = credentialsFile({ XDG_CONFIG_HOME: configHome });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const list = await cli(['registry', 'list'], { env: remote() });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('files.read_file');
    expect(await cli(['registry', 'suspend', 'agent-9'], { env: remote() })).toMatchObject({ code: 0 });
    expect((await events('registry.agent.suspended')).find((e) => e.target?.name === 'agent-9')?.actor).toMatchObject({ id: actorIdOf(tokens.admin), name: 'test-admin' });
    // WARDEN_TOKEN, when set, wins over the stored token.
    expect((await cli(['registry', 'approve', 'files', 'write_file'], { env: remote(tokens.viewer) })).code).toBe(2);
  });
});

describe('warden audit retention, hold and replay through WARDEN_URL', () => {
  it('sets and clears periods as the token, in its own tenant', async () => {
    const set = await cli(['audit', 'retention', '--set', 'decision=30', '--set', 'auth=90'], { env: remote(tokens.owner) });
    expect(set).toMatchObject({ code: 0, stdout: 'default auth: 90 day(s)\ndefault decision: 30 day(s)\n' });
    const cleared = await cli(['audit', 'retention', '--clear', 'auth'], { env: remote(tokens.owner) });
    expect(cleared.stdout).toBe('default decision: 30 day(s)\n');
    expect((await events('audit.retention.updated'))[0]?.actor).toMatchObject({ id: actorIdOf(tokens.owner), name: 'test-owner', authMethod: 'token' });
    expect((await events('audit.retention.cleared'))[0]?.details).toEqual({ category: 'auth', days: null });
    // Tenant B sees none of A's periods; an auditor reads them but may not change them.
    expect((await cli(['audit', 'retention'], { env: remote(tokensB.owner) })).stdout).toBe('');
    expect((await cli(['audit', 'retention'], { env: remote(tokens.auditor) })).stdout).toBe('default decision: 30 day(s)\n');
    expect((await cli(['audit', 'retention', '--set', 'decision=1'], { env: remote(tokens.auditor) })).code).toBe(2);
  });

  it('says that the removal pass needs the database', async () => {
    const r = await cli(['audit', 'retention', '--run'], { env: remote(tokens.owner) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('`--run` works on the database directly');
  });

  it('places, lists and releases a hold as the token; another tenant cannot release it', async () => {
    const added = await cli(['audit', 'hold', 'add', '--scope', 'acme/p1', '--reason', 'case 7', '--from', '2026-01-01T00:00:00Z'], { env: remote(tokens.admin) });
    expect(added.code).toBe(0);
    const id = /hold (\S+) keeps acme\/p1 from 2026-01-01T00:00:00.000Z to now on/.exec(added.stdout)![1]!;
    const list = await cli(['audit', 'hold', 'list'], { env: remote(tokens.auditor) });
    expect(list.stdout).toContain(`${id} active default acme/p1 2026-01-01T00:00:00.000Z..- by ${actorIdOf(tokens.admin)}: case 7`);
    expect((await cli(['audit', 'hold', 'list'], { env: remote(tokensB.owner) })).stdout).toBe('');
    const foreign = await cli(['audit', 'hold', 'release', id], { env: remote(tokensB.owner) });
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('[audit.hold_not_found]');
    // An admin of another scope may not place a hold here.
    expect((await cli(['audit', 'hold', 'add', '--scope', 'acme/p1', '--reason', 'x'], { env: remote(adminP2) })).code).toBe(2);
    expect(await cli(['audit', 'hold', 'release', id], { env: remote(tokens.owner) })).toMatchObject({ code: 0, stdout: `hold ${id} released\n` });
    expect((await cli(['audit', 'hold', 'release', id], { env: remote(tokens.owner) })).code).toBe(2);
    expect((await events('audit.hold.created'))[0]?.actor.id).toBe(actorIdOf(tokens.admin));
    expect((await events('audit.hold.released'))[0]?.actor.id).toBe(actorIdOf(tokens.owner));
  });

  it('replays a destination as the token, audited as audit.stream.replayed; an unknown one is 404', async () => {
    const r = await cli(['audit', 'replay', 'siem', '--from-seq', '1'], { env: remote(tokens.owner) });
    expect(r).toMatchObject({ code: 0, stdout: 'siem [default] will deliver again from 1\n' });
    const [e] = await events('audit.stream.replayed');
    expect(e).toMatchObject({ category: 'audit_system', scope: 'default', actor: { id: actorIdOf(tokens.owner), name: 'test-owner' }, details: { destination: 'siem', fromSeq: 1 } });
    const unknown = await cli(['audit', 'replay', 'nope', '--from-seq', '1'], { env: remote(tokens.owner) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('[audit.destination_not_found]');
    const status = await cli(['audit', 'destinations', '--json'], { env: remote(tokens.auditor) });
    const rows = JSON.parse(status.stdout) as { destination: string; tenantId: string; head: number; cursorSeq: number }[];
    expect(rows.every((row) => row.tenantId === 'default' && row.head >= row.cursorSeq)).toBe(true);
  });

  it('exports and tails only what the token reads; chain order needs the database', async () => {
    const analyst = await cli(['audit', 'export', '--type', 'registry.tool.approved'], { env: remote(tokens.analyst) });
    expect(analyst.code).toBe(0);
    expect(analyst.stdout.trim().split('\n').map((l) => (JSON.parse(l) as AuditEvent).tenantId)).toEqual(['default']);
    const b = await cli(['audit', 'export', '--type', 'registry.tool.approved'], { env: remote(tokensB.auditor) });
    expect(b.stdout).toBe('');
    const tail = await cli(['audit', 'tail', '-n', '2', '--no-follow', '--type', 'registry.agent.suspended'], { env: remote(tokens.auditor) });
    expect(tail.stdout.trim().split('\n')).toHaveLength(2);
    const chain = await cli(['audit', 'export', '--order', 'chain'], { env: remote(tokens.owner) });
    expect(chain.code).toBe(2);
    expect(chain.stderr).toContain('`--order chain` works on the database directly');
    expect((await cli(['audit', 'export', '--tenant', 'tenant-b'], { env: remote(tokens.owner) })).code).toBe(2);
  });
});

describe('the same commands on the database once the server stops', () => {
  const SAME: string[][] = [
    ['registry', 'list'],
    ['registry', 'list', '--json'],
    ['registry', 'list', '--status', 'blocked'],
    ['registry', 'show', 'files', 'read_file', '--json'],
    ['audit', 'hold', 'list', '--tenant', 'default'],
    ['audit', 'retention', '--tenant', 'default'],
    ['audit', 'export', '--tenant', 'default', '--format', 'jsonl'],
    ['audit', 'export', '--tenant', 'default', '--format', 'csv'],
    ['audit', 'export', '--tenant', 'default', '--format', 'ocsf', '--category', 'admin'],
    ['audit', 'tail', '--tenant', 'default', '-n', '50', '--no-follow', '--json'],
  ];
  const through = new Map<string, string>();

  it('prints the same text', async () => {
    // Nothing is written between the two runs: the server's last event is in before it stops.
    for (const args of SAME) {
      const remoteArgs = args.filter((a, i) => a !== '--tenant' && args[i - 1] !== '--tenant');
      const r = await cli(remoteArgs, { env: remote(tokens.owner) });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      through.set(args.join(' '), r.stdout);
    }
    await server!.close();
    server = undefined;
    for (const args of SAME) {
      const r = await cli([...args, ...direct], { env: { XDG_CONFIG_HOME: configHome } });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toBe(through.get(args.join(' ')));
    }
    expect(through.get('audit export --tenant default --format jsonl')!.split('\n').length).toBeGreaterThan(20);
  }, 120_000);

  it('changes the database as the local operator, in the tenant --tenant names', async () => {
    expect(await cli(['registry', 'block', 'b-files', 'read_file', '--tenant', 'tenant-b', ...direct])).toMatchObject({ code: 0, stdout: 'blocked b-files.read_file\n' });
    const exported = await cli(['audit', 'export', '--tenant', 'tenant-b', '--type', 'registry.tool.blocked', ...direct]);
    const [e] = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(e).toMatchObject({ tenantId: 'tenant-b', actor: { type: 'user', authMethod: 'local' } });
    expect(e!.actor.id).toMatch(/^local:/);
    expect((await cli(['registry', 'list', ...direct])).stdout).not.toContain('b-files');
  });
});
