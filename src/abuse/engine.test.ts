import { describe, expect, it } from 'vitest';
import type { Action, Case } from '../domain/index.js';
import { loadAbuseSources } from './rule-compile.js';
import { decided, setup } from './test-support.js';
import { createVerdicts } from './verdicts.js';

const BURST = (mode: string) => `
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: issue-burst }
spec:
  mode: ${mode}
  category: spam
  severity: high
  match: { actions: [tool.call], tools: ["github.create_*"], effects: [allow] }
  features:
    creates: { count: agent, window: 1m }
  when: features.creates > 5
  verdicts:
    - label: { name: bulk-creator, for: 1h }
    - kill: {}
    - review: { propose: [{ deny: { for: 1h } }] }
  reason: more than 5 issues created in a minute
`;

describe('abuse rules', () => {
  it('refuse a document that is not a rule, with where', () => {
    const r = loadAbuseSources([{ file: 'bad.yaml', text: 'apiVersion: warden.dev/v1\nkind: AbuseRule\nmetadata: { name: x }\nspec:\n  category: spam\n  when: features.n >\n  verdicts: [{ kill: {} }]\n  reason: r\n' }]);
    expect(r.set).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ code: 'abuse.rule_invalid', span: { line: 6 } });
    const two = loadAbuseSources([{ file: 'a.yaml', text: BURST('shadow') }, { file: 'b.yaml', text: BURST('enforce') }]);
    expect(two.diagnostics.map((d) => d.message)).toEqual(['a second abuse rule named `issue-burst`']);
    const unknown = loadAbuseSources([{ file: 'c.yaml', text: 'apiVersion: warden.dev/v1\nkind: Policy\n' }]);
    expect(unknown.diagnostics[0]!.message).toBe('unknown kind `Policy`');
  });

  it('a burst above the threshold labels the agent, kills its sessions and opens a case, once per event past it', async () => {
    const t = setup(BURST('enforce'));
    const at = new Date('2026-12-07T10:00:00Z');
    for (let i = 0; i < 5; i++) t.engine.observe([decided('bot', 'github.create_issue', new Date(at.getTime() + i * 1000))]);
    await t.engine.idle();
    expect(t.labels).toEqual([]);
    t.engine.observe([decided('bot', 'github.create_issue', new Date(at.getTime() + 6000))]);
    // Another agent and another tool count apart.
    t.engine.observe([decided('other', 'github.create_issue', at), decided('bot', 'github.list_issues', at)]);
    await t.engine.idle();
    expect(t.labels.map((l) => [l.entity.id, l.name, l.source])).toEqual([['bot', 'bulk-creator', { kind: 'rule', rule: 'issue-burst' }]]);
    expect(t.killed).toEqual(['bot']);
    expect(t.mitigations.map((m) => m.kind)).toEqual(['kill']);
    expect(t.cases).toHaveLength(1);
    expect(t.cases[0]).toMatchObject({ category: 'spam', subject: { kind: 'agent', id: 'bot' }, proposed: [{ kind: 'deny', forMs: 3_600_000 }], labelsAdded: ['bulk-creator'], mitigations: [t.mitigations[0]!.id] });
    const verdict = t.events.find((e) => e.type === 'abuse.verdict.applied')!;
    expect(verdict.details).toMatchObject({ rule: 'issue-burst', mode: 'enforce', features: { creates: 6 }, caseId: 'case-1' });
    expect(verdict.correlationId).toBeDefined();
    // The label is a fact of the next decision about the agent.
    const action: Action = { kind: 'tool.call', scope: 'acme/web', agent: { id: 'bot' }, tool: { server: 'github', name: 'list_issues' } };
    expect((await t.engine.screen({ tenantId: 'acme', action, findings: [] })).labels.agent).toEqual(['bulk-creator']);
    // Not in another tenant.
    expect((await t.engine.screen({ tenantId: 'other', action, findings: [] })).labels.agent).toEqual([]);
  });

  it('shadow mode changes nothing and records what would have happened', async () => {
    const t = setup(BURST('shadow'));
    const at = new Date('2026-12-07T10:00:00Z');
    for (let i = 0; i < 6; i++) t.engine.observe([decided('bot', 'github.create_issue', new Date(at.getTime() + i))]);
    await t.engine.idle();
    expect([t.labels, t.mitigations, t.cases, t.killed, t.suspended]).toEqual([[], [], [], [], []]);
    const shadowed = t.events.filter((e) => e.type === 'abuse.verdict.shadowed');
    expect(shadowed).toHaveLength(1);
    expect(shadowed[0]!.details!.verdicts).toEqual(['would label agent `bot` `bulk-creator` (bad) for 3600 s', 'would kill the live sessions of agent `bot`', 'would open a case on agent `bot`']);
    expect(t.engine.stats()).toMatchObject({ hits: 0, shadowHits: 1 });
  });

  it('a rule is quiet about an entity for its cooldown after a hit, then hits again; another entity is not held back', async () => {
    const t = setup(BURST('shadow'));
    const at = Date.parse('2026-12-07T10:00:00Z');
    for (let i = 0; i < 30; i++) t.engine.observe([decided('bot', 'github.create_issue', new Date(at + i * 1000))]);
    for (let i = 0; i < 6; i++) t.engine.observe([decided('other', 'github.create_issue', new Date(at + 20_000 + i))]);
    await t.engine.idle();
    const hits = () => t.events.filter((e) => e.type === 'abuse.verdict.shadowed').map((e) => `${String((e.details!.entities as { agent: string }).agent)}@${(Date.parse(e.time) - at) / 1000}`);
    expect(t.engine.stats()).toMatchObject({ shadowHits: 2, quiet: 24 });
    // The default cooldown is a minute: the bot's 7th … 30th calls are quiet; 61 s after its hit it may hit again.
    t.engine.observe([decided('bot', 'github.create_issue', new Date(at + 66_000))]);
    await t.engine.idle();
    expect(t.engine.stats().shadowHits).toBe(3);
    expect(hits()).toHaveLength(3);
  });

  it('the window slides: events older than it stop counting', async () => {
    const t = setup(BURST('enforce'));
    const at = Date.parse('2026-12-07T10:00:00Z');
    for (let i = 0; i < 5; i++) t.engine.observe([decided('bot', 'github.create_issue', new Date(at + i * 20_000))]);
    await t.engine.idle();
    // At 80 s only the events of 20 s … 80 s are within the minute (4 of them), then a 6th at 81 s makes 4.
    t.engine.observe([decided('bot', 'github.create_issue', new Date(at + 81_000))]);
    await t.engine.idle();
    expect(t.labels).toEqual([]);
  });

  it('a synchronous rule refuses the action in hand and a deny holds the next ones until it lapses', async () => {
    const t = setup(`
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: miner }
spec:
  mode: enforce
  synchronous: true
  category: cryptomining
  match: { actions: [tool.call] }
  when: has(args.command) && args.command.contains("xmrig")
  verdicts: [{ deny: { for: 10m } }, { label: { name: miner } }]
  reason: a cryptominer was started
`);
    const action = (command: string): Action => ({ kind: 'tool.call', scope: 'acme/ci', agent: { id: 'ci-bot' }, tool: { server: 'shell', name: 'exec' }, args: { command } });
    expect((await t.engine.screen({ tenantId: 'acme', action: action('ls'), findings: [] })).refusal).toBeUndefined();
    const hit = await t.engine.screen({ tenantId: 'acme', action: action('./xmrig -o pool'), findings: [] });
    expect(hit.refusal).toMatchObject({ policy: 'abuse', rule: 'miner', effect: 'deny' });
    expect(hit.refusal!.message).toContain('a cryptominer was started');
    expect(hit.labels.agent).toEqual(['miner']);
    const next = await t.engine.screen({ tenantId: 'acme', action: action('ls'), findings: [] });
    expect(next.refusal!.message).toMatch(/^agent `ci-bot` is barred until .* by abuse rule `miner`: a cryptominer was started$/);
    t.advance(10 * 60_000 + 1);
    expect((await t.engine.screen({ tenantId: 'acme', action: action('ls'), findings: [] })).refusal).toBeUndefined();
  });

  it('a throttle lets the limit through per window and refuses the rest', async () => {
    const t = setup(BURST('shadow'));
    const now = Date.parse('2026-12-07T10:00:00Z');
    await t.mitigationStore.add({ id: 'm1', tenantId: 'acme', entity: { kind: 'agent', id: 'bot' }, kind: 'throttle', limit: 2, windowMs: 60_000, reason: 'slow down', source: { kind: 'analyst', principal: 'ana' }, createdAt: new Date(now).toISOString(), until: new Date(now + 3_600_000).toISOString() });
    const action: Action = { kind: 'tool.call', scope: 'acme', agent: { id: 'bot' }, tool: { server: 'github', name: 'create_issue' } };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await t.engine.screen({ tenantId: 'acme', action, findings: [] })).refusal?.message);
    expect(outcomes.slice(0, 2)).toEqual([undefined, undefined]);
    expect(outcomes[2]).toMatch(/throttled to 2 calls per 60 s/);
    t.advance(60_001);
    expect((await t.engine.screen({ tenantId: 'acme', action, findings: [] })).refusal).toBeUndefined();
  });

  it('a store that fails makes the screen fail closed with abuse.unavailable, whether it fails the tenant-wide read or the per-entity one', async () => {
    const t = setup(BURST('shadow'));
    const action: Action = { kind: 'tool.call', scope: 'acme', agent: { id: 'bot' } };
    const anyLive = t.labelStore.anyLive;
    t.labelStore.anyLive = async () => {
      throw new Error('connection refused');
    };
    await expect(t.engine.screen({ tenantId: 'acme', action, findings: [] })).rejects.toMatchObject({ code: 'abuse.unavailable' });
    // A failed read is not remembered as "no facts": the next screen asks again.
    t.labelStore.anyLive = anyLive;
    await t.labelStore.add({ tenantId: 'acme', entity: { kind: 'agent', id: 'bot' }, name: 'x', connotation: 'bad', reason: 'r', source: { kind: 'analyst', principal: 'p' }, createdAt: '2026-12-07T10:00:00Z' });
    t.labelStore.live = async () => {
      throw new Error('connection refused');
    };
    await expect(t.engine.screen({ tenantId: 'acme', action, findings: [] })).rejects.toMatchObject({ code: 'abuse.unavailable' });
  });

  it('a tenant with no live label or mitigation costs one tenant-wide read per cache period, none per entity; a label added meanwhile shows once the period ends, or at once when added in this process', async () => {
    const t = setup(BURST('shadow'));
    let perEntity = 0;
    let tenantWide = 0;
    const live = t.labelStore.live;
    const anyLive = t.labelStore.anyLive;
    t.labelStore.live = async (...a) => (perEntity++, live(...a));
    t.labelStore.anyLive = async (...a) => (tenantWide++, anyLive(...a));
    const screen = (agent: string, session: string) => t.engine.screen({ tenantId: 'acme', action: { kind: 'tool.call', scope: 'acme', agent: { id: agent } }, findings: [], sessionId: session });
    await Promise.all(Array.from({ length: 20 }, (_, i) => screen('bot', `s${i}`)));
    expect([tenantWide, perEntity]).toEqual([1, 0]);
    // Another process labels the agent (straight into the store): seen once the cached "none" is older than its period.
    await t.labelStore.add({ tenantId: 'acme', entity: { kind: 'agent', id: 'bot' }, name: 'flagged', connotation: 'bad', reason: 'r', source: { kind: 'analyst', principal: 'p' }, createdAt: '2026-12-07T10:00:00Z' });
    expect((await screen('bot', 's0')).labels.agent).toEqual([]);
    t.advance(600);
    expect((await screen('bot', 's0')).labels.agent).toEqual(['flagged']);
    expect(tenantWide).toBe(2);
    // In this process, `forget` (what the label service calls) makes it visible at once, in another tenant too.
    await t.labelStore.add({ tenantId: 'other', entity: { kind: 'agent', id: 'bot' }, name: 'local', connotation: 'bad', reason: 'r', source: { kind: 'analyst', principal: 'p' }, createdAt: '2026-12-07T10:00:00Z' });
    const other = () => t.engine.screen({ tenantId: 'other', action: { kind: 'tool.call', scope: 'other', agent: { id: 'bot' } }, findings: [] });
    t.labelStore.live = live;
    expect((await other()).labels.agent).toEqual(['local']);
    await t.labelStore.remove('other', { kind: 'agent', id: 'bot' }, 'local', new Date());
    t.engine.forget('other', [{ kind: 'agent', id: 'bot' }]);
    expect((await other()).labels.agent).toEqual([]);
  });

  it('a distinct feature counts values of its expression; a failing condition gives no verdict', async () => {
    const t = setup(`
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: fan-out }
spec:
  mode: enforce
  category: runaway
  features:
    tools: { distinct: agent, of: 'tool.server + "." + tool.name', window: 10m }
  when: features.tools >= 3 && event.nosuch == 1
  verdicts: [{ label: { name: fan-out } }]
  reason: many tools
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: fan-out-2 }
spec:
  mode: enforce
  category: runaway
  features:
    tools: { distinct: agent, of: 'tool.server + "." + tool.name', window: 10m }
  when: features.tools >= 3
  verdicts: [{ label: { name: fan-out } }]
  reason: many tools
`);
    const at = new Date('2026-12-07T10:00:00Z');
    t.engine.observe(['a.x', 'a.x', 'a.y', 'a.x', 'b.z'].map((tool) => decided('bot', tool, at)));
    await t.engine.idle();
    expect(t.labels.map((l) => l.name)).toEqual(['fan-out']);
    // Only where the count reached 3 did the condition get to the missing field (CEL's && short-circuits on false).
    expect(t.engine.stats().failures).toBe(1);
    expect(t.events.filter((e) => e.type === 'abuse.verdict.applied').map((e) => e.details!.rule)).toEqual(['fan-out-2']);
  });

  it('undo lifts what a case applied: mitigations, the suspension and the labels', async () => {
    const t = setup(BURST('shadow'));
    const verdicts = createVerdicts({ labels: t.labelStore, mitigations: t.mitigationStore, cases: () => t.opener, agents: t.agents, audit: { append: async () => {} }, clock: { now: () => new Date('2026-12-07T10:00:00Z') }, onKill: () => {}, forget: () => {} });
    const applied = await verdicts.apply({ tenantId: 'acme', subject: { kind: 'agent', id: 'bot' }, proposed: [{ kind: 'deny', forMs: 60_000 }, { kind: 'suspend' }, { kind: 'label', name: 'confirmed-abuser', connotation: 'bad' }], source: { kind: 'analyst', principal: 'ana' }, reason: 'confirmed' });
    expect(applied).toMatchObject({ suspended: true, labelsAdded: ['confirmed-abuser'] });
    expect(t.suspended).toEqual(['bot']);
    await verdicts.undo({ tenantId: 'acme', subject: { kind: 'agent', id: 'bot' }, mitigations: applied.mitigations, suspended: true, labelsAdded: ['confirmed-abuser'] } as Case, 'ana');
    expect(t.suspended).toEqual([]);
    expect(t.labels).toEqual([]);
    expect(t.mitigations.every((m) => m.liftedBy === 'ana')).toBe(true);
  });
});
