import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../src/domain/index.js';
import { createCore, type Core } from '../src/main/index.js';
import type { Credential } from '../src/identity/index.js';
import { roleTokens } from './support/api-core.js';

// The abuse platform wired in the one core, on a real store: a synchronous rule's review verdict
// opens a case routed by an AbuseQueue document; an analyst confirms it and the proposed deny takes
// effect at the next decision; a false positive on another case lifts what its rule applied.

const dir = (files: Record<string, string>) => {
  const d = mkdtempSync(join(tmpdir(), 'warden-abuse-core-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
};

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: open, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.call] } }
`;

const RULES = `apiVersion: warden.dev/v1
kind: AbuseQueue
metadata: { name: ci-abuse }
spec: { scopes: [acme/ci], categories: [cryptomining], sla: 2h }
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: miner-review }
spec:
  mode: enforce
  synchronous: true
  category: cryptomining
  when: text.re2Matches("stratum\\\\+tcp://")
  verdicts:
    - label: { name: suspected-miner, for: 1h }
    - review: { propose: [{ deny: { for: 1h } }] }
  reason: a stratum URL in a command
`;

const call = (agent: string, command: string): Action => ({ kind: 'tool.call', scope: 'acme/ci', agent: { id: agent }, tool: { server: 'shell', name: 'exec' }, args: { command } });

describe('the abuse platform in the core', () => {
  let core: Core;
  let analyst: Credential;
  let viewer: Credential;

  beforeAll(async () => {
    core = await createCore({ database: { memory: true }, policies: [dir({ 'p.yaml': POLICY })], abuseRules: [dir({ 'rules.yaml': RULES })], abuseDefaultPack: false }, { logger: pino({ level: 'silent' }) });
    const tokens = await roleTokens(core);
    analyst = await core.identity.authenticate(tokens.analyst);
    viewer = await core.identity.authenticate(tokens.viewer);
  });
  afterAll(async () => {
    await core?.close();
  });

  it('opens a case in the queue its AbuseQueue routes to; confirming it denies the agent from the next decision on', async () => {
    const first = await core.checkpoint.check(call('ci-bot', 'run ./x -o stratum+tcp://pool:3333'), { tenantId: 'default' });
    // review and label verdicts do not refuse the action in hand.
    expect(first.decision.effect).toBe('allow');
    const page = await core.cases.list(analyst, { status: 'open' });
    expect(page.cases).toHaveLength(1);
    const c = page.cases[0]!;
    expect(c).toMatchObject({ queue: 'ci-abuse', category: 'cryptomining', subject: { kind: 'agent', id: 'ci-bot' }, labelsAdded: ['suspected-miner'], proposed: [{ kind: 'deny', forMs: 3_600_000 }] });
    expect(Date.parse(c.dueAt) - Date.parse(c.createdAt)).toBe(2 * 3_600_000);
    await expect(core.cases.claim(viewer, c.id)).rejects.toMatchObject({ code: expect.stringMatching(/^(abuse|auth)\./) });

    await core.cases.claim(analyst, c.id);
    const decided = await core.cases.decide(analyst, c.id, { outcome: 'confirmed', note: 'xmrig on the runner' });
    expect(decided.status).toBe('closed');
    expect(decided.mitigations).toHaveLength(1);

    const next = await core.checkpoint.check(call('ci-bot', 'ls'), { tenantId: 'default' });
    expect(next.decision.effect).toBe('deny');
    expect(next.decision.reasons[0]).toMatchObject({ policy: 'abuse', rule: 'mitigation', effect: 'deny' });
    expect(next.decision.reasons[0]!.message).toMatch(/^agent `ci-bot` is barred until .* by analyst `/);
    expect(next.decision.reasons[0]!.message).toContain('xmrig on the runner');
    // Another agent is not touched.
    expect((await core.checkpoint.check(call('other-bot', 'ls'), { tenantId: 'default' })).decision.effect).toBe('allow');
    await core.flush();
    const types = (await core.auditLog.list({ tenant: 'default', limit: 1000 })).events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['abuse.verdict.applied', 'abuse.case.opened', 'abuse.case.claimed', 'abuse.case.decided', 'abuse.mitigation.applied']));
  });

  it('a false positive lifts what the rule applied and counts against its precision', async () => {
    await core.checkpoint.check(call('build-bot', 'echo stratum+tcp://docs.example/page'), { tenantId: 'default' });
    const c = (await core.cases.list(analyst, { status: 'open' })).cases.find((x) => x.subject.id === 'build-bot')!;
    const labelsBefore = (await core.abuse.engine.screen({ tenantId: 'default', action: call('build-bot', 'ls'), findings: [] })).labels.agent;
    expect(labelsBefore).toEqual(['suspected-miner']);
    await core.cases.claim(analyst, c.id);
    await core.cases.decide(analyst, c.id, { outcome: 'false_positive', note: 'a docs link' });
    const after = await core.abuse.engine.screen({ tenantId: 'default', action: call('build-bot', 'ls'), findings: [] });
    expect(after.labels.agent).toEqual([]);
    expect(after.refusal).toBeUndefined();
    const stats = await core.cases.ruleStats(analyst);
    expect(stats.find((s) => s.rule === 'miner-review')).toMatchObject({ confirmed: 1, falsePositive: 1, precision: 0.5 });
  });
});
