import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuditEvent, type AuditEvent } from '../src/domain/index.js';
import { createCore, createServerApp, type Core } from '../src/main/index.js';
import { roleTokens } from './support/api-core.js';
import { cli } from './support/cli.js';

// Issue 15 item 7: `warden abuse replay` (and its route) over events written through a core, with
// exact hits per rule: a burst, and a label one rule gives on a finding read by a synchronous rule.

const RULES = `apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: secret-read }
spec:
  category: exfiltration
  on: [finding.detected]
  when: findings.exists(f, f.category == "secret")
  verdicts: [{ label: { entity: session, name: sensitive-read, for: 1h } }]
  reason: a secret was read
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: exfil }
spec:
  mode: enforce
  synchronous: true
  category: exfiltration
  when: '"sensitive-read" in session.labels && has(args.url)'
  verdicts: [{ deny: { for: 1h } }]
  reason: network after a secret
`;
const BURST = `apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: burst }
spec:
  category: runaway
  features: { n: { count: agent, window: 1m } }
  when: features.n > 2
  verdicts: [{ review: {} }]
  reason: burst
`;
const BROKEN = `apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: broken }
spec:
  category: runaway
  when: 'event.type == '
  verdicts: [{ review: {} }]
  reason: broken
`;

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function event(tenantId: string, type: string, ms: number, agent: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return newAuditEvent({ tenantId, scope: 'acme/p1', category: 'decision', type, outcome: 'success', actor: { type: 'agent', id: agent, sessionId: `s-${agent}` }, agent: { id: agent }, ...extra }, new Date(T0 + ms));
}
function call(tenantId: string, ms: number, agent: string, args?: Record<string, unknown>, session?: string): AuditEvent {
  return event(tenantId, 'tool.call.decided', ms, agent, {
    action: { kind: 'tool.call' },
    target: { kind: 'tool', server: 'web', name: 'fetch' },
    decision: { effect: 'allow', reasons: [], warnings: [], findings: [], obligations: [] },
    ...(session ? { actor: { type: 'agent', id: agent, sessionId: session } } : {}),
    ...(args ? { payload: { argsDigest: 'sha256:x', args } } : {}),
  });
}

/**
 * Tenant `default`: bot-a calls 4 times in 3 s and bot-b 3 times in 1 s (a burst each; one hit per
 * agent, the rest inside the cooldown); bot-c calls with a URL in session s1, a secret is found in
 * s1, then bot-c calls with a URL again (exfil's one hit). Tenant `other`: a burst of its own.
 */
const EVENTS: AuditEvent[] = [
  call('default', 0, 'bot-a'),
  call('default', 0, 'bot-b'),
  call('default', 500, 'bot-b'),
  call('default', 1000, 'bot-a'),
  call('default', 1000, 'bot-b'),
  call('default', 2000, 'bot-a'),
  call('default', 3000, 'bot-a'),
  call('default', 9000, 'bot-c', { url: 'https://a.example' }, 's1'),
  event('default', 'finding.detected', 10_000, 'bot-c', { category: 'detection', actor: { type: 'agent', id: 'bot-c', sessionId: 's1' }, findings: [{ category: 'secret', type: 'aws_key', score: 1, severity: 'high', detector: 'secrets', span: { start: 0, end: 1 }, evidence: '***' } as never] }),
  call('default', 11_000, 'bot-c', { url: 'https://b.example' }, 's1'),
  ...[0, 100, 200, 300, 400].map((ms) => call('other', ms, 'bot-z')),
];
const DEFAULT_EVENTS = EVENTS.filter((e) => e.tenantId === 'default').length;

let dataDir: string;
let rulesDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'warden-abuse-replay-'));
  rulesDir = mkdtempSync(join(tmpdir(), 'warden-abuse-replay-r-'));
  writeFileSync(join(rulesDir, 'chain.yaml'), RULES);
  writeFileSync(join(rulesDir, 'burst.yaml'), BURST);
  writeFileSync(join(rulesDir, 'broken.yaml'), BROKEN);
  const core = await createCore({ database: { dataDir }, policies: [], abuseDefaultPack: false }, { logger: pino({ level: 'silent' }) });
  await core.identity.createTenant(undefined, { id: 'other', name: 'Other' });
  await core.audit.append(EVENTS);
  await core.flush();
  await core.close();
}, 60_000);

const hitsOf = (r: { rules: { rule: string; hits: number }[] }) => Object.fromEntries(r.rules.map((x) => [x.rule, x.hits]));

describe('warden abuse replay (on the database)', () => {
  const files = () => [join(rulesDir, 'chain.yaml'), join(rulesDir, 'burst.yaml')];

  it('reports exact hits per rule: a burst, and a label one rule gives read by a synchronous rule', { timeout: 60_000 }, async () => {
    const r = await cli(['abuse', 'replay', '--rules', ...files(), '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^burst +2 hits +2 entities +shadow +runaway$/m);
    expect(r.stdout).toMatch(/^secret-read +1 hit +1 entity +shadow +exfiltration$/m);
    expect(r.stdout).toMatch(/^exfil +1 hit +1 entity +enforce, synchronous +exfiltration$/m);
    // exfil's hit is the call after the secret, not the one before it.
    expect(r.stdout).toContain(`    ${at(11_000)}  acme/p1  bot-c  event ${EVENTS[9]!.id}`);
    expect(r.stdout).toMatch(/ +bot-a +event \S+ +n=3$/m);
    expect(r.stdout).toContain(`${DEFAULT_EVENTS} events read (of ${DEFAULT_EVENTS})`);
    // bot-a's and bot-b's calls carried no arguments.
    expect(r.stdout).toContain('7 decisions judged by synchronous rules without their arguments');
  });

  it('--json gives the same report', { timeout: 60_000 }, async () => {
    const r = await cli(['abuse', 'replay', '--rules', rulesDir + '/chain.yaml', rulesDir + '/burst.yaml', '--json', '--samples', '1', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ total: DEFAULT_EVENTS, read: DEFAULT_EVENTS, withoutArgs: 7 });
    expect(hitsOf(report)).toEqual({ 'secret-read': 1, exfil: 1, burst: 2 });
    const burst = report.rules.find((x: { rule: string }) => x.rule === 'burst');
    expect(burst).toMatchObject({ entities: 2, mode: 'shadow', synchronous: false, category: 'runaway', failures: 0 });
    expect(burst.samples).toHaveLength(1);
    expect(burst.samples[0]).toMatchObject({ scope: 'acme/p1', type: 'tool.call.decided', features: { n: 3 } });
  });

  it('--from and --to bound the range', { timeout: 60_000 }, async () => {
    // From 2 s: bot-a's last two calls only, bot-b's none: no burst; the secret and the call after it stay.
    const late = JSON.parse((await cli(['abuse', 'replay', '--rules', ...files(), '--from', at(2000), '--json', '--data-dir', dataDir])).stdout);
    expect(late.read).toBe(5);
    expect(hitsOf(late)).toEqual({ 'secret-read': 1, exfil: 1, burst: 0 });
    // Before 10 s: the bursts, and no secret yet.
    const early = JSON.parse((await cli(['abuse', 'replay', '--rules', ...files(), '--to', at(10_000), '--json', '--data-dir', dataDir])).stdout);
    expect(early.read).toBe(8);
    expect(hitsOf(early)).toEqual({ 'secret-read': 0, exfil: 0, burst: 2 });
    const bad = await cli(['abuse', 'replay', '--rules', ...files(), '--from', 'yesterday', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from must be an RFC 3339 time');
  });

  it('a rule whose CEL does not compile exits non-zero, naming file:line:col and the code', { timeout: 60_000 }, async () => {
    const r = await cli(['abuse', 'replay', '--rules', join(rulesDir, 'broken.yaml'), '--data-dir', dataDir], { cwd: rulesDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('abuse.rule_invalid');
    expect(r.stderr).toMatch(/broken\.yaml:6:\d+: error\[abuse\.rule_invalid\]/);
    const none = await cli(['abuse', 'replay', '--data-dir', dataDir]);
    expect(none.code).toBe(2);
  });

  it('--default-pack runs the default pack', { timeout: 60_000 }, async () => {
    const r = JSON.parse((await cli(['abuse', 'replay', '--default-pack', '--json', '--data-dir', dataDir])).stdout);
    expect(r.read).toBe(DEFAULT_EVENTS);
    expect(r.rules.length).toBeGreaterThan(5);
  });
});

describe('POST /api/v1/abuse/replay', () => {
  let core: Core;
  let app: ReturnType<typeof createServerApp>;
  let tokens: Awaited<ReturnType<typeof roleTokens>>;
  let others: Awaited<ReturnType<typeof roleTokens>>;
  // The range of the recorded traffic: the tokens made here are events of the tenants too.
  const body = { sources: [{ file: 'chain.yaml', text: RULES }, { file: 'burst.yaml', text: BURST }], from: at(0), to: at(60_000) };
  const post = (token: string, payload: object, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/api/v1/abuse/replay', headers: { authorization: `Bearer ${token}`, ...headers }, payload });

  beforeAll(async () => {
    core = await createCore({ database: { dataDir }, policies: [], abuseDefaultPack: false }, { logger: pino({ level: 'silent' }) });
    app = createServerApp(core);
    tokens = await roleTokens(core);
    others = await roleTokens(core, 'other');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await core?.close();
  });

  it('answers the report to an analyst, and 403 to a viewer', async () => {
    const res = await post(tokens.auditor, body);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ total: DEFAULT_EVENTS, read: DEFAULT_EVENTS });
    expect(hitsOf(res.json())).toEqual({ 'secret-read': 1, exfil: 1, burst: 2 });
    const viewer = await post(tokens.viewer, body);
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error.code).toBe('auth.forbidden');
  });

  it('an analyst, who may not read captured arguments, replays without them', async () => {
    const r = (await post(tokens.analyst, body)).json();
    expect(hitsOf(r)).toEqual({ 'secret-read': 1, exfil: 0, burst: 2 });
    expect(r.withoutArgs).toBe(9);
  });

  it("reads the caller's tenant only", async () => {
    const r = (await post(others.owner, body)).json();
    expect(r).toMatchObject({ total: 5, read: 5 });
    expect(hitsOf(r)).toEqual({ 'secret-read': 0, exfil: 0, burst: 1 });
  });

  it('the audit log streams in time order across batches when asked (replay reads it so)', async () => {
    const times: string[] = [];
    for await (const e of core.auditLog.stream({ tenant: 'default', from: at(0), to: at(60_000) }, { batchSize: 3, oldestFirst: true })) times.push(e.time);
    expect(times).toHaveLength(DEFAULT_EVENTS);
    expect(times).toEqual([...times].sort());
  });

  it('streams progress lines before the report as JSON lines', async () => {
    const res = await post(tokens.owner, { ...body, samples: 0 }, { accept: 'application/x-ndjson' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(0, -1).every((l) => l.progress !== undefined)).toBe(true);
    expect(lines[0].progress).toEqual({ read: DEFAULT_EVENTS, total: DEFAULT_EVENTS });
    expect(lines.at(-1).report).toMatchObject({ read: DEFAULT_EVENTS });
    expect(lines.at(-1).report.rules.every((x: { samples: unknown[] }) => x.samples.length === 0)).toBe(true);
  });

  it('refuses rules that do not compile (before a stream begins), a bad time, and an empty request', async () => {
    for (const headers of [{}, { accept: 'application/x-ndjson' }] as Record<string, string>[]) {
      const res = await post(tokens.owner, { sources: [{ file: 'broken.yaml', text: BROKEN }] }, headers);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'abuse.rule_invalid' });
      expect(res.json().error.message).toMatch(/broken\.yaml:6:\d+/);
    }
    expect((await post(tokens.owner, { ...body, from: 'yesterday' })).statusCode).toBe(400);
    expect((await post(tokens.owner, { sources: [] })).json().error.code).toBe('request.invalid');
    const many = Array.from({ length: 65 }, (_, i) => ({ file: `f${i}.yaml`, text: '' }));
    expect((await post(tokens.owner, { sources: many })).statusCode).toBe(400);
  });
});
