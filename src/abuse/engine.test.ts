import { describe, expect, it } from 'vitest';
import type { Action, AuditEvent, Case, EntityRef, Label, Mitigation } from '../domain/index.js';
import { newAuditEvent } from '../domain/index.js';
import { createAbuseEngine } from './engine.js';
import type { AgentSuspender, CaseOpener, LabelStore, MitigationStore, OpenCaseInput } from './ports.js';
import { loadAbuseSources, type AbuseRuleSet } from './rule-compile.js';
import type { VelocityPort, VelocityRead } from './rule-run.js';
import { createVerdicts } from './verdicts.js';

// Port doubles: the engine's logic is under test here; the stores have their own tests on both databases.
const same = (a: EntityRef, b: EntityRef) => a.kind === b.kind && a.id === b.id;
function stores() {
  const labels: Label[] = [];
  const mitigations: Mitigation[] = [];
  const cases: OpenCaseInput[] = [];
  const suspended: string[] = [];
  const killed: string[] = [];
  const events: AuditEvent[] = [];
  const labelStore: LabelStore = {
    add: async (l) => {
      const i = labels.findIndex((x) => x.tenantId === l.tenantId && same(x.entity, l.entity) && x.name === l.name);
      if (i >= 0) labels.splice(i, 1);
      labels.push(l);
    },
    remove: async (t, e, name) => {
      const i = labels.findIndex((x) => x.tenantId === t && same(x.entity, e) && x.name === name);
      if (i >= 0) labels.splice(i, 1);
      return i >= 0;
    },
    live: async (t, es, now) => labels.filter((l) => l.tenantId === t && es.some((e) => same(e, l.entity)) && (!l.expiresAt || Date.parse(l.expiresAt) > now.getTime())),
    list: async () => labels,
  };
  const mitigationStore: MitigationStore = {
    add: async (m) => void mitigations.push(m),
    live: async (t, es, now) => mitigations.filter((m) => m.tenantId === t && es.some((e) => same(e, m.entity)) && !m.liftedAt && Date.parse(m.until) > now.getTime()),
    get: async (t, id) => mitigations.find((m) => m.tenantId === t && m.id === id),
    lift: async (t, id, by, at) => {
      const m = mitigations.find((x) => x.tenantId === t && x.id === id);
      if (m) Object.assign(m, { liftedAt: at.toISOString(), liftedBy: by });
      return m;
    },
    killsSince: async (since) => mitigations.filter((m) => m.kind === 'kill' && Date.parse(m.createdAt) > since.getTime()),
    list: async () => mitigations,
  };
  const opener: CaseOpener = {
    open: async (input) => {
      cases.push(input);
      return { ...input, id: `case-${cases.length}`, queue: 'default', status: 'open', notes: [], dueAt: '', createdAt: '', updatedAt: '' } as Case;
    },
  };
  const agents: AgentSuspender = { setStatus: async (_t, id, status) => void (status === 'suspended' ? suspended.push(id) : suspended.splice(suspended.indexOf(id), 1)) };
  return { labels, mitigations, cases, suspended, killed, events, labelStore, mitigationStore, opener, agents };
}

/** Exact sliding window over kept timestamps: the reference the real stores are tested against. */
function exactVelocity(): VelocityPort {
  const hits = new Map<string, { at: number; member?: string | undefined }[]>();
  const value = (r: VelocityRead, at: number) => {
    const list = (hits.get(r.key) ?? []).filter((h) => h.at > at - r.windowMs);
    if (r.kind === 'distinct') return new Set(list.map((h) => h.member)).size;
    return r.kind === 'rate' ? list.length / (r.windowMs / 1000) : list.length;
  };
  return {
    observe: async (reads, at) =>
      reads.map((r) => {
        const list = hits.get(r.key) ?? [];
        list.push({ at, member: r.member });
        hits.set(r.key, list);
        return value(r, at);
      }),
    peek: async (reads, at) => reads.map((r) => value(r, at)),
  };
}

function rules(yaml: string): AbuseRuleSet {
  const r = loadAbuseSources([{ file: 'rules.yaml', text: yaml }]);
  if (!r.set) throw new Error(r.diagnostics.map((d) => `${d.span.line}:${d.span.col} ${d.message}`).join('\n'));
  return r.set;
}

function setup(yaml: string, clockMs = Date.parse('2026-12-07T10:00:00Z')) {
  const s = stores();
  let now = clockMs;
  const clock = { now: () => new Date(now) };
  let set = rules(yaml);
  const engine = createAbuseEngine({
    rules: () => set,
    velocity: exactVelocity(),
    labels: s.labelStore,
    mitigations: s.mitigationStore,
    clock,
    verdicts: createVerdicts({
      labels: s.labelStore,
      mitigations: s.mitigationStore,
      cases: () => s.opener,
      agents: s.agents,
      audit: { append: async (es) => void s.events.push(...es) },
      clock,
      onKill: (m) => s.killed.push(m.entity.id),
      forget: (t, es) => engine.forget(t, es),
    }),
  });
  return { ...s, engine, advance: (ms: number) => (now += ms), swap: (y: string) => (set = rules(y)) };
}

const decided = (agent: string, tool: string, at: Date, extra: Partial<AuditEvent> = {}): AuditEvent =>
  newAuditEvent(
    {
      tenantId: 'acme',
      scope: 'acme/web',
      category: 'decision',
      type: 'tool.call.decided',
      outcome: 'success',
      actor: { type: 'agent', id: agent, sessionId: `s-${agent}` },
      agent: { id: agent },
      target: { kind: 'tool', server: tool.split('.')[0]!, name: tool.split('.')[1]! },
      action: { kind: 'tool.call' },
      decision: { effect: 'allow', reasons: [], warnings: [], findings: [], obligations: [] },
      ...extra,
    },
    at,
  );

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

  it('a store that fails makes the screen fail closed with abuse.unavailable', async () => {
    const t = setup(BURST('shadow'));
    t.labelStore.live = async () => {
      throw new Error('connection refused');
    };
    await expect(t.engine.screen({ tenantId: 'acme', action: { kind: 'tool.call', scope: 'acme', agent: { id: 'bot' } }, findings: [] })).rejects.toMatchObject({ code: 'abuse.unavailable' });
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
