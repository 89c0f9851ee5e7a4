import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpIdentity, listenHttp, type HttpListener, type HttpListenOptions } from '../src/gateway/index.js';
import { createIdentityService, seededTokenId, type IdentityService } from '../src/identity/index.js';
import { createCore, seedAgentTokens, startGateway, type Core, type GatewayRuntime } from '../src/main/index.js';
import { createAuditWriter } from '../src/audit/index.js';
import { createAuditRepo, createIdentityRepo } from '../src/store/index.js';
import { runCli } from '../src/cli/program.js';
import { auditEvents, EVERYTHING, inMemoryUpstream, OPEN_POLICY, policyDir, textOf } from './fixtures/gateway-harness.js';
import { cli } from './support/cli.js';
import { operator } from './support/api-core.js';
import { dialects } from './support/databases.js';
import { fakeClock, type FakeClock } from './support/fake-clock.js';

// The gateway's agents authenticate with `agent` tokens of the identity store (a gateway file's
// static tokens only seed it), act in the token's tenant for its principal within its grant scope,
// and lose their open sessions within a second of a revocation or an expiry.

const SCOPE = 'acme/platform';
const FILE = 'gateway.yaml';
const SEED = 'seedy-static-token-0123456789';
const SEEDED = { source: FILE, agents: [{ id: 'seedy', token: SEED, principal: { id: 'sam', roles: ['dev'] } }] };
const quiet = pino({ level: 'silent' });

function echoServer(): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `Echo: ${String(req.params.arguments?.message)}` }] }));
  return server;
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

/** A raw `initialize`, to read a refusal's status and JSON-RPC error as an agent would. */
async function initialize(url: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; code?: string; message: string }> {
  const res = await fetch(url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${token}`, ...headers }, body: INIT });
  if (res.ok) {
    await res.text();
    return { status: res.status, message: '' };
  }
  const body = (await res.json()) as { error: { message: string; data?: { code?: string } } };
  return { status: res.status, message: body.error.message, ...(body.error.data?.code ? { code: body.error.data.code } : {}) };
}

/** Milliseconds until `probe` first resolves true, polled every 25 ms; fails past `limitMs`. */
async function msUntil(probe: () => Promise<boolean>, limitMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('agent tokens of the identity store at the gateway', () => {
  let clock: FakeClock;
  let core: Core;
  let rt: GatewayRuntime;
  let http: HttpListener;
  /** Another process on the same database (a replica, or `warden token revoke`): its changes reach this one only through the store. */
  let elsewhere: IdentityService;
  const open: Client[] = [];

  const listen = (opts: Partial<HttpListenOptions> = {}) =>
    listenHttp(rt.gateway, {
      identify: createHttpIdentity({ scope: SCOPE, tenant: 'acme', policies: rt.policies, agents: SEEDED.agents, authenticate: (bearer) => core.identity.authenticate(bearer) }),
      tokens: core.identity,
      audit: rt.audit,
      clock,
      logger: quiet,
      ...opts,
    });
  const connect = async (token: string, headers: Record<string, string> = {}, url = http.url) => {
    const client = new Client({ name: 'agent-tokens-test', version: '1' });
    // A refused reconnect of the notification stream after a cut is the expected outcome here, not a failure.
    client.onerror = () => {};
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}`, ...headers } } }));
    open.push(client);
    return client;
  };
  const echo = async (client: Client, message = 'hi') => textOf(await client.callTool({ name: 'echo', arguments: { message } }));
  const refused = (client: Client) => () => client.callTool({ name: 'echo', arguments: { message: 'poll' } }).then(() => false, () => true);
  const mint = (agentId: string, extra: { scope?: string; principal?: string; expiresAt?: string } = {}) =>
    core.identity.createToken(operator('acme'), { name: `agent-${agentId}`, role: 'agent', agentId, ...extra });

  beforeAll(async () => {
    clock = fakeClock('2026-03-01T10:00:00.000Z');
    const policies = policyDir(OPEN_POLICY);
    core = await createCore({ database: { memory: true }, policies: [policies] }, { logger: quiet, clock });
    await core.identity.createTenant(undefined, { id: 'acme', name: 'Acme' });
    await core.identity.createTenant(undefined, { id: 'globex', name: 'Globex' });
    rt = await startGateway({ policies: [policies], scope: SCOPE, tenant: 'acme', upstreams: [inMemoryUpstream('toy', echoServer)], database: { shared: core }, upstreamStderr: 'ignore', logger: quiet, agentTokens: SEEDED });
    http = await listen();
    elsewhere = createIdentityService({ store: createIdentityRepo(core.database.db), audit: core.audit, clock });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => {})));
  });
  afterAll(async () => {
    await http?.close();
    await rt?.close();
    await core?.close();
  });

  it('connects with an agent token and acts in its tenant, for its principal; the decision names the token', async () => {
    const { token, info } = await mint('alpha', { principal: 'alice' });
    const alpha = await connect(token);
    expect(await echo(alpha)).toBe('Echo: hi');
    const events = await auditEvents(rt);
    const decided = events.findLast((e) => e.type === 'tool.call.decided' && e.agent?.id === 'alpha')!;
    expect(decided).toMatchObject({ tenantId: 'acme', scope: SCOPE, onBehalfOf: { id: 'alice' }, actor: { type: 'agent', id: 'alpha', authMethod: 'token' } });
    // Beside who submitted it, the registry facts the policies saw (replay rebuilds the action from them).
    expect(decided.details).toEqual({ submittedBy: { id: `token:${info.id}`, name: 'agent-alpha', method: 'token' }, action: { tool: expect.objectContaining({ risk: expect.any(String), capabilities: expect.any(Array) }) } });
    expect(events.findLast((e) => e.type === 'tool.call.completed' && e.agent?.id === 'alpha')).toMatchObject({ tenantId: 'acme', correlationId: decided.id });
  });

  it('cuts an open session within a second of a revocation made elsewhere, audits it, and refuses the token from then on', async () => {
    const { token, info } = await mint('beta');
    const beta = await connect(token);
    expect(await echo(beta)).toBe('Echo: hi');
    const before = http.sessions();

    // Revoked through another identity service: this gateway's cache still holds the token, so only the sweeper can see it.
    await elsewhere.revokeToken(operator('acme'), info.id);
    const ms = await msUntil(refused(beta), 1000);
    expect(ms).toBeLessThan(1000);
    expect(http.sessions()).toBe(before - 1);

    const cut = (await auditEvents(rt)).filter((e) => e.type === 'gateway.session.revoked');
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatchObject({ tenantId: 'acme', category: 'auth', agent: { id: 'beta' }, target: { kind: 'token', name: info.prefix }, details: { token: info.prefix } });

    clock.advance(600); // past the identity cache (500 ms), as on any other replica
    const again = await initialize(http.url, token);
    expect(again).toMatchObject({ status: 401, code: 'auth.invalid_token', message: 'the bearer token was revoked' });
    await expect(connect(token)).rejects.toThrow();
  });

  it('refuses a revoked token at once on the next request of its session, even before the sweep', async () => {
    const slow = await listen({ tokenSweepMs: 60_000 });
    try {
      const { token, info } = await mint('delta');
      const delta = await connect(token, {}, slow.url);
      expect(await echo(delta)).toBe('Echo: hi');
      await core.identity.revokeToken(operator('acme'), info.id);
      expect(await refused(delta)()).toBe(true);
      await slow.sweep();
      expect(slow.sessions()).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('cuts the session of an expired token and refuses the token', async () => {
    const { token } = await mint('gamma', { expiresAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    const gamma = await connect(token);
    expect(await echo(gamma)).toBe('Echo: hi');
    const before = http.sessions();
    clock.advance(61_000);
    // The sweeper closes the session itself (its request is refused sooner, on the credential's expiry).
    expect(await msUntil(async () => http.sessions() === before - 1, 1000)).toBeLessThan(1000);
    expect(await refused(gamma)()).toBe(true);
    expect(await initialize(http.url, token)).toMatchObject({ status: 401, code: 'auth.invalid_token', message: 'the bearer token has expired' });
  });

  it("refuses another tenant's agent token, a viewer's, an owner's, and a token granted outside the gateway's scope", async () => {
    const globex = await core.identity.createToken(operator('globex'), { name: 'globex-agent', role: 'agent', agentId: 'alpha' });
    expect(await initialize(http.url, globex.token)).toMatchObject({ status: 403, code: 'auth.forbidden', message: 'the token belongs to tenant `globex`, and this gateway serves tenant `acme`' });
    await expect(connect(globex.token)).rejects.toThrow();

    for (const role of ['viewer', 'owner'] as const) {
      const t = await core.identity.createToken(operator('acme'), { name: `a-${role}`, role });
      const r = await initialize(http.url, t.token);
      expect(r).toMatchObject({ status: 403, code: 'auth.forbidden' });
      expect(r.message).toMatch(new RegExp(`^a token of role \`${role}\` may not connect agents to the gateway`));
    }

    const elsewhereScoped = await mint('omega', { scope: 'acme/data' });
    expect(await initialize(http.url, elsewhereScoped.token)).toMatchObject({ status: 403, code: 'gateway.scope_refused', message: 'the token of agent `omega` is granted at scope `acme/data`, which does not overlap the scope `acme/platform` it is bound to on this gateway' });
    expect(await initialize(http.url, 'no-such-token-0123456789')).toMatchObject({ status: 401, code: 'auth.invalid_token' });
  });

  it('acts in the narrower of the grant scope and the gateway scope; a session serves only the token that opened it', async () => {
    const narrow = await mint('payer', { scope: 'acme/platform/payments' });
    const payer = await connect(narrow.token);
    expect(await echo(payer, 'pay')).toBe('Echo: pay');
    const decided = (await auditEvents(rt)).findLast((e) => e.type === 'tool.call.decided' && e.agent?.id === 'payer')!;
    expect(decided.scope).toBe('acme/platform/payments');

    // A second token of the same agent cannot ride on the first one's session.
    const first = await fetch(http.url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${narrow.token}` }, body: INIT });
    const sid = first.headers.get('mcp-session-id')!;
    await first.text();
    const other = await mint('payer', { scope: 'acme/platform/payments' });
    const res = await fetch(http.url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${other.token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }) });
    expect(res.status).toBe(403);
    await res.text();
  });

  it('lets an enforcer token connect for the agent it names with X-Warden-Agent, and only then', async () => {
    const host = await core.identity.createToken(operator('acme'), { name: 'sdk-host', role: 'enforcer' });
    const robo = await connect(host.token, { 'x-warden-agent': 'robo' });
    expect(await echo(robo)).toBe('Echo: hi');
    const decided = (await auditEvents(rt)).findLast((e) => e.type === 'tool.call.decided' && e.agent?.id === 'robo')!;
    expect(decided.details).toEqual({ submittedBy: { id: `token:${host.info.id}`, name: 'sdk-host', method: 'token' }, action: { tool: expect.objectContaining({ risk: expect.any(String) }) } });
    expect(decided.onBehalfOf).toBeUndefined();
    expect(await initialize(http.url, host.token)).toMatchObject({ status: 403, code: 'auth.forbidden' });
    // An agent token names its own agent; it cannot name another.
    const { token } = await mint('alpha');
    expect(await initialize(http.url, token, { 'x-warden-agent': 'robo' })).toMatchObject({ status: 403, code: 'auth.forbidden' });
  });

  it('accepts the token the gateway file seeded, with the binding’s principal and roles, and revokes it like any other', async () => {
    const id = seededTokenId('acme', 'seedy');
    const row = (await core.identity.listTokens(operator('acme'))).find((t) => t.agentId === 'seedy')!;
    expect(row).toMatchObject({ id, prefix: `wdn_${id}`, role: 'agent', scope: SCOPE, principal: 'sam', createdBy: `file:${FILE}`, revokedAt: null });
    const created = (await auditEvents(rt)).filter((e) => e.type === 'identity.token.created' && e.target?.name === `wdn_${id}`);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ tenantId: 'acme', actor: { type: 'system' }, details: { role: 'agent', agentId: 'seedy', seededFrom: FILE } });

    const seedy = await connect(SEED);
    expect(await echo(seedy)).toBe('Echo: hi');
    const decided = (await auditEvents(rt)).findLast((e) => e.type === 'tool.call.decided' && e.agent?.id === 'seedy')!;
    expect(decided).toMatchObject({ tenantId: 'acme', onBehalfOf: { id: 'sam', roles: ['dev'] }, details: { submittedBy: { id: `token:${id}`, name: 'seedy', method: 'token' } } });

    await core.identity.revokeToken(operator('acme'), id);
    expect(await msUntil(refused(seedy), 1000)).toBeLessThan(1000);
    expect(await initialize(http.url, SEED)).toMatchObject({ status: 401, message: 'the bearer token was revoked' });
  });

  it('seeds once across starts: no second row or audit event, a revoked seed stays revoked, and a file token of an agent the store knows is left out', async () => {
    const second = await startGateway({ policies: [...core.config.policies], scope: SCOPE, tenant: 'acme', upstreams: [inMemoryUpstream('toy', echoServer)], database: { shared: core }, upstreamStderr: 'ignore', logger: quiet, agentTokens: SEEDED });
    await second.close();
    const rows = (await core.identity.listTokens(operator('acme'))).filter((t) => t.agentId === 'seedy');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.revokedAt).not.toBeNull();
    expect((await auditEvents(rt)).filter((e) => e.type === 'identity.token.created' && (e.details as { seededFrom?: string }).seededFrom === FILE)).toHaveLength(1);
    expect(await initialize(http.url, SEED)).toMatchObject({ status: 401 });

    const warnings: string[] = [];
    const logger = { info: () => {}, warn: (_: object, msg: string) => void warnings.push(msg) };
    const results = await seedAgentTokens(core.identity, { source: FILE, tenant: 'acme', scope: SCOPE, logger, agents: [...SEEDED.agents, { id: 'alpha', token: 'alpha-file-token-0123456789' }] });
    expect(results.map((r) => r.outcome)).toEqual(['present', 'skipped']);
    expect(results[1]).toMatchObject({ reason: expect.stringMatching(/^the store already holds .* of agent `alpha`/) });
    expect(warnings).toHaveLength(2);
    expect(await initialize(http.url, 'alpha-file-token-0123456789')).toMatchObject({ status: 401 });

    // One text is one token: a second agent cannot be seeded with a token another already has.
    await expect(seedAgentTokens(core.identity, { source: FILE, tenant: 'acme', scope: SCOPE, logger, agents: [{ id: 'copycat', token: SEED }] })).rejects.toThrow(/is already another agent's token/);
  });

  it('refuses a gateway of a tenant that does not exist', async () => {
    await expect(startGateway({ policies: [...core.config.policies], scope: SCOPE, tenant: 'initech', upstreams: [inMemoryUpstream('toy', echoServer)], database: { shared: core }, upstreamStderr: 'ignore', logger: quiet })).rejects.toThrow(
      /the gateway serves tenant `initech`, which does not exist/,
    );
  });

  it('fails closed while the identity store does not answer, and keeps open sessions until it is back', async () => {
    let down = false;
    const guard = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => (down ? Promise.reject(new Error('connection refused')) : fn(...a));
    const flaky = await listen({
      identify: createHttpIdentity({ scope: SCOPE, tenant: 'acme', policies: rt.policies, authenticate: guard((bearer: string) => core.identity.authenticate(bearer)) }),
      tokens: { invalidTokens: guard((ids: readonly string[]) => core.identity.invalidTokens(ids)) },
      tokenSweepMs: 60_000,
    });
    try {
      const { token } = await mint('kappa');
      const kappa = await connect(token, {}, flaky.url);
      down = true;
      clock.advance(600); // the cached credential is stale: the next request must ask the store
      await flaky.sweep();
      expect(flaky.sessions()).toBe(1);
      expect(await initialize(flaky.url, token)).toMatchObject({ status: 503, code: 'store.unavailable' });
      expect(await refused(kappa)()).toBe(true);
      down = false;
      await flaky.sweep();
      expect(flaky.sessions()).toBe(1);
      expect(await echo(kappa, 'back')).toBe('Echo: back');
    } finally {
      await flaky.close();
    }
  });
});

// The store's part, on both databases: a seeded token is found by the hash of its text (a unique
// index), revoked like any other, and reported by the one query the sweeper makes.
describe.each(await dialects())('seeded agent tokens in the store ($name)', ({ fresh }) => {
  it('authenticates a seeded text by hash, once per agent, and reports it invalid once revoked', async () => {
    const db = await fresh();
    try {
      const clock = fakeClock('2026-03-01T10:00:00.000Z');
      const audit = createAuditWriter({ store: createAuditRepo(db.database), clock });
      const identity = createIdentityService({ store: createIdentityRepo(db.database.db), audit, clock });
      const seed = { tenantId: 'default', agentId: 'ci-bot', token: 'ci-bot-static-token-0123456789', principal: 'svc-ci', scope: 'acme', source: FILE };
      const first = await identity.seedAgentToken(seed);
      expect(first.outcome).toBe('imported');
      expect((await identity.seedAgentToken(seed)).outcome).toBe('present');
      const cred = await identity.authenticate(seed.token);
      expect(cred).toMatchObject({ tenantId: 'default', method: 'token', id: seededTokenId('default', 'ci-bot'), grants: [{ role: 'agent', scope: 'acme' }], agentId: 'ci-bot', principal: 'svc-ci' });
      await expect(identity.authenticate('ci-bot-static-token-0123456780')).rejects.toThrow('the bearer token is not a valid Warden token');
      await expect(identity.authenticate('too-short')).rejects.toThrow('not a valid Warden token');
      expect(await identity.invalidTokens([cred.id])).toEqual([]);
      await identity.revokeToken(operator(), cred.id);
      expect(await identity.invalidTokens([cred.id])).toEqual([cred.id]);
      await expect(identity.authenticate(seed.token)).rejects.toThrow('the bearer token was revoked');
      expect((await identity.seedAgentToken(seed)).outcome).toBe('present');
      await audit.flush();
    } finally {
      await db.dispose();
    }
  });
});

/** `warden gateway --http` in process until `stop` is called; resolves with its MCP URL once it serves. */
function gatewayCommand(args: string[], env: Record<string, string>): { url: Promise<string>; stop(): void; code: Promise<number> } {
  let stop = () => {};
  const stopped = new Promise<void>((r) => (stop = r));
  let stderr = '';
  let found: (url: string) => void = () => {};
  const url = new Promise<string>((r) => (found = r));
  const code = runCli(['gateway', '--http', '0', '--log-level', 'silent', ...args], {
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
      const m = /serving MCP at (http:\/\/\S+)/.exec(stderr);
      if (m) found(m[1]!);
    },
    env,
    cwd: process.cwd(),
    untilStopped: () => stopped,
  });
  void code.then((c) => found(`exited ${c}: ${stderr}`));
  return { url, stop, code };
}

describe('warden gateway --http --config: the file seeds the store', () => {
  it('imports the static token once across two starts, and it connects both times', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-gw-seed-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `apiVersion: warden.dev/v1
kind: Gateway
spec:
  scope: acme/platform
  servers: [{ name: everything, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }]
  agents:
    - { id: ci-bot, tokenEnv: CI_BOT_TOKEN, principal: { id: svc-ci, roles: [ci] } }
    - { id: bound-only }
`,
    );
    const args = ['--config', file, '--policies', policyDir(OPEN_POLICY), '--data-dir', join(dir, 'data')];
    const env = { CI_BOT_TOKEN: 'ci-bot-token-from-env-0123456789' };
    for (let start = 0; start < 2; start++) {
      const gw = gatewayCommand(args, env);
      const url = await gw.url;
      expect(url).toMatch(/^http:/);
      expect(await initialize(url, env.CI_BOT_TOKEN)).toMatchObject({ status: 200 });
      gw.stop();
      expect(await gw.code).toBe(0);
    }
    const listed = await cli(['token', 'list', '--data-dir', join(dir, 'data'), '--format', 'json']);
    expect(listed.code).toBe(0);
    const rows = (JSON.parse(listed.stdout) as { tokens: Array<{ agentId: string | null; createdBy: string }> }).tokens.filter((t) => t.agentId !== null);
    expect(rows).toEqual([expect.objectContaining({ agentId: 'ci-bot', createdBy: `file:${file}` })]);

    // A `tokenEnv` that names an unset variable stops the start.
    const unset = await cli(['gateway', '--http', '0', ...args]);
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toContain('agent `ci-bot` names `tokenEnv: CI_BOT_TOKEN`, which is not set');
  }, 120_000);
});
