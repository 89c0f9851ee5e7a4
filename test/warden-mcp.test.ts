import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Case } from '../src/domain/index.js';
import { analystServices } from '../src/main/analyst-services.js';
import { createCore, type Core, type DatabaseLocation } from '../src/main/index.js';
import type { Role } from '../src/identity/index.js';
import { operator } from './support/api-core.js';
import { cli } from './support/cli.js';
import { freshPostgres, postgresProblem, type FreshDatabase } from './support/databases.js';
import { ROOT, textOf } from './fixtures/gateway-harness.js';

// `warden mcp` (issue 15 item 8): the analyst tools served to an analyst's own agent over stdio,
// each call through the checkpoint of an in-process gateway. The real CLI is spawned and spoken to
// with the official MCP SDK client.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const openCore = (database: DatabaseLocation): Promise<Core> => createCore({ database, policies: [] }, { logger: pino({ level: 'silent' }) });

/** A person's token in tenant `default`, tenant-wide, made by the local operator. */
async function personToken(core: Core, principal: string, role: Role): Promise<string> {
  return (await core.identity.createToken(operator(), { name: principal, role, principal })).token;
}

/** A case a rule opened about agent `bad-agent`. */
function openCase(core: Core): Promise<Case> {
  return core.cases.open({
    tenantId: 'default',
    category: 'spam',
    severity: 'medium',
    scope: 'default',
    subject: { kind: 'agent', id: 'bad-agent' },
    summary: 'posts the same link everywhere',
    source: { kind: 'rule', rule: 'link-spam' },
    evidence: { eventIds: [], findings: [], labels: [], features: { posts: 40 } },
    mitigations: [],
    proposed: [{ kind: 'deny', forMs: 3_600_000 }],
  });
}

/** `warden mcp` spawned with `token`, and an MCP client connected to it. */
async function connect(token: string, store: string[], extra: string[] = []): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli/main.ts', 'mcp', ...store, ...extra],
    env: { ...getDefaultEnvironment(), WARDEN_TOKEN: token },
    cwd: ROOT,
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'analyst-agent-test', version: '1' });
  await client.connect(transport);
  return { client, stderr: () => err };
}

const json = (result: unknown): Record<string, unknown> => JSON.parse(textOf(result)) as Record<string, unknown>;

describe('warden mcp on an embedded data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-mcp-'));
  dirs.push(dir);
  const dataDir = join(dir, 'data');
  const store = ['--data-dir', dataDir];
  const tokens: Record<string, string> = {};
  let opened: Case;

  beforeAll(async () => {
    const core = await openCore({ dataDir });
    try {
      tokens.alice = await personToken(core, 'alice', 'analyst');
      tokens.vic = await personToken(core, 'vic', 'viewer');
      opened = await openCase(core);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('lists the tools, reads cases for an analyst, refuses bad arguments, and audits each call as agent analyst-agent', async () => {
    const { client, stderr } = await connect(tokens.alice!, store);
    try {
      // (a) the analyst tools, as the gateway exposes its one upstream `warden`
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['cases_list', 'case_show', 'mitigate', 'audit_search', 'rule_stats']));
      expect(names).toHaveLength(14);

      // (b) reads pass the built-in policy and answer with the analyst's own view
      const listed = await client.callTool({ name: 'cases_list', arguments: { status: 'open' } });
      expect(listed.isError, textOf(listed)).toBeFalsy();
      expect((json(listed).cases as Case[]).map((c) => c.id)).toEqual([opened.id]);
      const shown = await client.callTool({ name: 'case_show', arguments: { id: opened.id } });
      expect(json(shown)).toMatchObject({ id: opened.id, subject: { kind: 'agent', id: 'bad-agent' }, summary: 'posts the same link everywhere' });

      // (e) arguments the tool's schema refuses: an error result, and the session goes on
      const bad = await client.callTool({ name: 'case_show', arguments: { id: 42 } });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toMatch(/id/);
      const extra = await client.callTool({ name: 'cases_list', arguments: { status: 'sleeping' } });
      expect(extra.isError).toBe(true);
      expect((await client.callTool({ name: 'rule_stats', arguments: {} })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
    expect(stderr()).not.toMatch(/error/i);

    const core = await openCore({ dataDir });
    try {
      const page = await core.auditLog.list({ tenant: 'default', agent: 'analyst-agent', limit: 100 });
      const decided = page.events.filter((e: AuditEvent) => e.type === 'tool.call.decided');
      const show = decided.find((e) => e.target?.name === 'warden.case_show');
      expect(show, JSON.stringify(decided.map((e) => e.target))).toMatchObject({ target: { kind: 'tool', server: 'warden', name: 'warden.case_show' }, agent: { id: 'analyst-agent' }, onBehalfOf: { id: 'alice' }, decision: { effect: 'allow' } });
      // The schema refusal was decided (allowed by policy) and then refused by the gateway's argument check: audited too.
      expect(decided.filter((e) => e.target?.name === 'warden.case_show')).toHaveLength(2);
    } finally {
      await core.close();
    }
  }, 120_000);

  it('refuses at start a token without an abuse-reading role (a viewer), and starts for none without WARDEN_TOKEN', async () => {
    // (d) a viewer reads nothing of abuse work through the API, so its agent is refused before it starts
    const viewer = await cli(['mcp', ...store], { env: { WARDEN_TOKEN: tokens.vic! } });
    expect(viewer.code).toBe(2);
    expect(viewer.stderr).toContain('error[auth.forbidden]');
    expect(viewer.stderr).toContain('`viewer`');
    expect(viewer.stdout).toBe('');
    const none = await cli(['mcp', ...store]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('set WARDEN_TOKEN');
    const forged = await cli(['mcp', ...store], { env: { WARDEN_TOKEN: 'wdn_nope' } });
    expect(forged.code).toBe(2);
    expect(forged.stderr).toContain('auth.invalid_token');
  }, 60_000);
});

describe('analystServices: the agent may do what the token may do through the API', () => {
  it("refuses an auditor's writes with the REST route's role error, and audits the refusal", async () => {
    const core = await openCore({ memory: true });
    try {
      const auditor = await core.identity.authenticate(await personToken(core, 'audrey', 'auditor'));
      const c = await openCase(core);
      const s = analystServices(core, auditor);
      expect(await s.caseShow(c.id)).toMatchObject({ id: c.id });
      await expect(s.caseClaim(c.id)).rejects.toMatchObject({ code: 'auth.forbidden' });
      await expect(s.mitigate({ entity: { kind: 'agent', id: 'bad-agent' }, action: 'deny', reason: 'x' })).rejects.toMatchObject({ code: 'auth.forbidden' });
      await expect(s.auditSearch({ q: 'a\u0000b' })).rejects.toMatchObject({ code: 'request.invalid' });
      await core.flush();
      const refused = await core.auditLog.list({ tenant: 'default', type: 'auth.route.denied', limit: 10 });
      expect(refused.events.map((e) => e.target?.name).sort()).toEqual(['POST /api/v1/abuse/cases/:id/claim', 'POST /api/v1/abuse/mitigations/:id/lift']);
      const analyst = analystServices(core, await core.identity.authenticate(await personToken(core, 'ann', 'analyst')));
      await expect(analyst.mitigate({ entity: { kind: 'agent', id: 'bad-agent' }, action: 'throttle', reason: 'x' })).rejects.toMatchObject({ code: 'request.invalid' });
      await expect(analyst.mitigate({ entity: { kind: 'ip', id: '10.0.0.1' }, action: 'kill', reason: 'x' })).rejects.toMatchObject({ code: 'request.invalid' });
    } finally {
      await core.close();
    }
  }, 60_000);
});

// An approver answers from another process while the session holds the store: the embedded store
// is locked by one process, so this part runs on PostgreSQL (skipped, with the reason, when none is reachable).
const problem = await postgresProblem();
if (problem && process.env.CI) throw new Error(`PostgreSQL is required when CI is set: ${problem}`);

describe.skipIf(problem !== undefined)('warden mcp: a mitigation waits for another person\'s approval', () => {
  let fresh: FreshDatabase;
  let core: Core;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    fresh = await freshPostgres();
    core = await openCore({ url: fresh.url! });
    tokens.alice = await personToken(core, 'alice', 'analyst');
    tokens.bob = await personToken(core, 'bob', 'analyst');
  }, 60_000);

  afterAll(async () => {
    await core?.close();
    await fresh?.dispose();
  });

  it('(c) holds `mitigate`, applies nothing, and applies it on the retry once another analyst approved', async () => {
    const { client } = await connect(tokens.alice!, ['--database-url', fresh.url!], ['--approval-wait', '200ms']);
    const call = { name: 'mitigate', arguments: { kind: 'agent', entity: 'bad-agent', action: 'deny', for: '1h', reason: 'link spam, case confirmed by hand' } };
    try {
      const held = await client.callTool(call);
      expect(held.isError).toBe(true);
      const id = /apr_[0-9a-f]{32}/.exec(textOf(held))?.[0];
      expect(id, textOf(held)).toBeDefined();
      expect(await core.mitigations.list('default', { entity: { kind: 'agent', id: 'bad-agent' }, live: true }, new Date())).toEqual([]);

      // The requester may not answer her own request; another analyst may.
      const alice = await core.identity.authenticate(tokens.alice!);
      await expect(core.approvals.answer(alice, id!, 'approve', undefined)).rejects.toThrow();
      const bob = await core.identity.authenticate(tokens.bob!);
      expect((await core.approvals.answer(bob, id!, 'approve', 'seen the case')).status).toBe('approved');

      const applied = await client.callTool(call);
      expect(applied.isError, textOf(applied)).toBeFalsy();
      expect(json(applied)).toMatchObject({ subject: { kind: 'agent', id: 'bad-agent' }, applied: { kind: 'deny', forMs: 3_600_000 } });
    } finally {
      await client.close();
    }
    const live = await core.mitigations.list('default', { entity: { kind: 'agent', id: 'bad-agent' }, live: true }, new Date());
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ kind: 'deny', source: { kind: 'analyst', principal: 'alice' } });
    const events = await core.auditLog.list({ tenant: 'default', type: 'abuse.mitigation.applied', limit: 10 });
    expect(events.events).toHaveLength(1);
    expect(events.events[0]).toMatchObject({ actor: { type: 'user', id: 'alice' }, details: { subject: { kind: 'agent', id: 'bad-agent' }, mitigations: [live[0]!.id] } });
  }, 120_000);
});
