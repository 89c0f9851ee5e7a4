import type { AuditEvent, Case, EntityRef, Label, Mitigation } from '../domain/index.js';
import { newAuditEvent } from '../domain/index.js';
import { createAbuseEngine } from './engine.js';
import type { AgentSuspender, CaseOpener, LabelStore, MitigationStore, OpenCaseInput } from './ports.js';
import { loadAbuseSources, type AbuseRuleSet, type AbuseRuleSource } from './rule-compile.js';
import type { VelocityPort } from './rule-run.js';
import type { VelocityRead } from './velocity.js';
import { createVerdicts } from './verdicts.js';

/**
 * Test support for the abuse engine and the rule packs: port doubles, an exact velocity store, an
 * engine over them and a decision-event builder. Not imported outside tests.
 */

// Port doubles: the engine's logic is under test here; the stores have their own tests on both databases.
const same = (a: EntityRef, b: EntityRef) => a.kind === b.kind && a.id === b.id;
export function stores() {
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
    anyLive: async (t, now) => labels.some((l) => l.tenantId === t && (!l.expiresAt || Date.parse(l.expiresAt) > now.getTime())),
    list: async () => labels,
  };
  const mitigationStore: MitigationStore = {
    add: async (m) => void mitigations.push(m),
    live: async (t, es, now) => mitigations.filter((m) => m.tenantId === t && es.some((e) => same(e, m.entity)) && !m.liftedAt && Date.parse(m.until) > now.getTime()),
    anyLive: async (t, now) => mitigations.some((m) => m.tenantId === t && !m.liftedAt && Date.parse(m.until) > now.getTime()),
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
export function exactVelocity(): VelocityPort {
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

/** Compiles inline YAML (or several files); throws with every diagnostic when the set does not compile. */
export function rules(yaml: string | readonly AbuseRuleSource[]): AbuseRuleSet {
  const r = loadAbuseSources(typeof yaml === 'string' ? [{ file: 'rules.yaml', text: yaml }] : yaml);
  if (!r.set) throw new Error(r.diagnostics.map((d) => `${d.span.line}:${d.span.col} ${d.message}`).join('\n'));
  return r.set;
}

/** An engine over port doubles and the rules given; `advance` moves its clock, `swap` its rules. */
export function setup(yaml: string | readonly AbuseRuleSource[], clockMs = Date.parse('2026-12-07T10:00:00Z')) {
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
  return { ...s, engine, advance: (ms: number) => (now += ms), swap: (y: string | readonly AbuseRuleSource[]) => (set = rules(y)) };
}

/** A `tool.call.decided` event of `agent` calling `server.tool`, allowed, in session `s-<agent>`. */
export const decided = (agent: string, tool: string, at: Date, extra: Partial<AuditEvent> = {}): AuditEvent =>
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
