import { WardenError, isWardenError, type Action, type AuditEvent, type Clock, type EntityLabels, type EntityRef, type Finding, type Label, type Mitigation, type Reason } from '../domain/index.js';
import { observedFromAction, observedFromEvent, type Observed } from './observed.js';
import type { LabelStore, MitigationStore } from './ports.js';
import type { AbuseRuleSet } from './rule-compile.js';
import type { RuleEntity } from './rule-document.js';
import { createCooldowns, isHit, ruleReads, runRules, type VelocityPort } from './rule-run.js';
import type { Verdicts } from './verdicts.js';

/** What the checkpoint's screen stage gets back: the labels policies see, and a refusal when abuse mitigations or a synchronous rule refuse. */
export interface AbuseScreen {
  labels: EntityLabels;
  refusal?: Reason | undefined;
}

/** The action in hand, as the screen stage hands it over. */
export interface ScreenInput {
  tenantId: string;
  action: Action;
  sessionId?: string | undefined;
  ip?: string | undefined;
  findings: readonly Finding[];
}

export interface AbuseEngineDeps {
  rules: () => AbuseRuleSet;
  velocity: VelocityPort;
  labels: Pick<LabelStore, 'live' | 'anyLive'>;
  mitigations: Pick<MitigationStore, 'live' | 'anyLive'>;
  verdicts: Verdicts;
  clock: Clock;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void } | undefined;
  /** How long an entity's labels and mitigations are served from memory (changes in this process apply at once). @default 500 */
  factsTtlMs?: number;
  /** Most events waiting for asynchronous rules; beyond it they are dropped, counted and logged. @default 10000 */
  maxQueue?: number;
}

/** Counters for metrics and tests. */
export interface AbuseStats {
  observed: number;
  hits: number;
  shadowHits: number;
  failures: number;
  /** Hits inside their rule's cooldown on the entity: no verdict, no record. */
  quiet: number;
  dropped: number;
  errors: number;
}

/** The abuse rule engine of one process. */
export interface AbuseEngine {
  /** Before a decision: live labels, mitigations in force (deny, throttle) and synchronous rules. Throws `abuse.unavailable` when it cannot tell (fail closed). */
  screen(input: ScreenInput): Promise<AbuseScreen>;
  /** After commit: queues recorded events for the asynchronous rules; never blocks or throws. */
  observe(events: readonly AuditEvent[]): void;
  /** Resolves when every event observed so far has been through the rules. */
  idle(): Promise<void>;
  /** Forgets cached facts of entities (after a label or mitigation changed elsewhere in this process). */
  forget(tenantId: string, entities: readonly EntityRef[]): void;
  stats(): AbuseStats;
}

interface Facts {
  at: number;
  labels: Label[];
  mitigations: Mitigation[];
}

const MAX_FACTS = 50_000;
const ENTITY_KINDS_SCREENED: readonly RuleEntity[] = ['agent', 'principal', 'session'];
/** The facts of an entity of a tenant with no live label or mitigation at all. */
const NO_FACTS: Facts = Object.freeze({ at: 0, labels: [], mitigations: [] });
const factKey = (tenantId: string, e: EntityRef) => `${tenantId}\u0001${e.kind}\u0001${e.id}`;

/** Creates the engine over its stores, the velocity store and the verdicts. */
export function createAbuseEngine(deps: AbuseEngineDeps): AbuseEngine {
  const ttl = deps.factsTtlMs ?? 500;
  const maxQueue = deps.maxQueue ?? 10_000;
  const facts = new Map<string, Facts>();
  const stats: AbuseStats = { observed: 0, hits: 0, shadowHits: 0, failures: 0, quiet: 0, dropped: 0, errors: 0 };
  const cooldowns = createCooldowns();
  let queue: AuditEvent[] = [];
  let draining: Promise<void> | undefined;
  let lastDropWarning = 0;

  // Per tenant: whether it has any live label or mitigation, read at most once per `ttl` (one read
  // shared by concurrent callers). Most tenants have none, and then no entity's facts are read at
  // all: the screen costs no query per session. A change in this process clears it at once (`forget`).
  const tenantFacts = new Map<string, { at: number; any: Promise<boolean> }>();
  function tenantHasFacts(tenantId: string, nowMs: number): Promise<boolean> {
    const known = tenantFacts.get(tenantId);
    if (known && nowMs - known.at < ttl) return known.any;
    const now = deps.clock.now();
    const any = Promise.all([deps.labels.anyLive(tenantId, now), deps.mitigations.anyLive(tenantId, now)]).then(([l, m]) => l || m);
    if (tenantFacts.size >= MAX_FACTS) tenantFacts.clear();
    const entry = { at: nowMs, any };
    tenantFacts.set(tenantId, entry);
    // A failed read is not remembered: the next caller asks again.
    any.catch(() => {
      if (tenantFacts.get(tenantId) === entry) tenantFacts.delete(tenantId);
    });
    return any;
  }

  /** The live labels and mitigations of entities, from memory when fresh. */
  async function factsOf(tenantId: string, entities: readonly EntityRef[]): Promise<Facts[]> {
    const nowMs = deps.clock.now().getTime();
    let any: boolean;
    try {
      any = await tenantHasFacts(tenantId, nowMs);
    } catch (err) {
      throw new WardenError('abuse.unavailable', `Warden could not read the labels and mitigations of this action's agent, principal or session (${isWardenError(err) ? err.message : String(err)}), so it refused the action rather than decide without them; retry shortly`, { cause: err });
    }
    if (!any) return entities.map(() => NO_FACTS);
    const out: (Facts | undefined)[] = entities.map((e) => {
      const f = facts.get(factKey(tenantId, e));
      return f && nowMs - f.at < ttl ? f : undefined;
    });
    const missing = entities.filter((_, i) => out[i] === undefined);
    if (missing.length > 0) {
      const now = deps.clock.now();
      let labels: Label[];
      let mitigations: Mitigation[];
      try {
        [labels, mitigations] = await Promise.all([deps.labels.live(tenantId, missing, now), deps.mitigations.live(tenantId, missing, now)]);
      } catch (err) {
        throw new WardenError('abuse.unavailable', `Warden could not read the labels and mitigations of this action's agent, principal or session (${isWardenError(err) ? err.message : String(err)}), so it refused the action rather than decide without them; retry shortly`, { cause: err });
      }
      if (facts.size + missing.length > MAX_FACTS) facts.clear();
      for (const e of missing) {
        const f: Facts = {
          at: nowMs,
          labels: labels.filter((l) => l.entity.kind === e.kind && l.entity.id === e.id),
          mitigations: mitigations.filter((m) => m.entity.kind === e.kind && m.entity.id === e.id),
        };
        facts.set(factKey(tenantId, e), f);
        out[entities.indexOf(e)] = f;
      }
    }
    return out as Facts[];
  }

  function entitiesOf(o: Observed): EntityRef[] {
    const out: EntityRef[] = [];
    for (const kind of ENTITY_KINDS_SCREENED) {
      const id = o.entities[kind];
      if (id !== undefined) out.push({ kind, id });
    }
    return out;
  }

  async function labelsOf(o: Observed): Promise<{ labels: EntityLabels; mitigations: Mitigation[] }> {
    const entities = entitiesOf(o);
    if (entities.length === 0) return { labels: { agent: [], principal: [], session: [] }, mitigations: [] };
    const fs = await factsOf(o.tenantId, entities);
    const names: Record<'agent' | 'principal' | 'session', string[]> = { agent: [], principal: [], session: [] };
    const mitigations: Mitigation[] = [];
    const nowMs = deps.clock.now().getTime();
    fs.forEach((f, i) => {
      const kind = entities[i]!.kind as 'agent' | 'principal' | 'session';
      for (const l of f.labels) if (l.expiresAt === undefined || Date.parse(l.expiresAt) > nowMs) names[kind].push(l.name);
      for (const m of f.mitigations) if (Date.parse(m.until) > nowMs && m.liftedAt === undefined) mitigations.push(m);
    });
    return { labels: names, mitigations };
  }

  const refusal = (rule: string, message: string): Reason => ({ policy: 'abuse', version: 1, rule, effect: 'deny', message });

  async function run(o: Observed, synchronous: boolean, labels: EntityLabels): Promise<{ refusal?: Reason; added: { entity: EntityRef; name: string }[] }> {
    const set = deps.rules();
    const rules = synchronous ? set.synchronous : set.asynchronous;
    const added: { entity: EntityRef; name: string }[] = [];
    let refused: Reason | undefined;
    const reading = rules.filter((rule) => ruleReads(rule, o));
    if (reading.length === 0) return { added };
    const results = await runRules(reading, o, { velocity: deps.velocity, labels, record: true });
    for (const r of results) {
      if (r === undefined) continue;
      if (!isHit(r)) {
        stats.failures++;
        deps.logger?.warn({ rule: r.rule.name, error: r.error }, 'an abuse rule condition failed; it gave no verdict');
        continue;
      }
      const rule = r.rule;
      if (!cooldowns.take(r)) {
        stats.quiet++;
        continue;
      }
      if (rule.mode === 'shadow') {
        stats.shadowHits++;
        await deps.verdicts.shadow(r, set.version);
        continue;
      }
      stats.hits++;
      const outcome = await deps.verdicts.applyHit(r, set.version);
      added.push(...outcome.labelsAdded);
      if (outcome.refuses && synchronous && !refused) refused = refusal(rule.name, `${rule.reason} (abuse rule \`${rule.name}\`: ${outcome.done.join('; ')})`);
    }
    return { ...(refused ? { refusal: refused } : {}), added };
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      for (const e of batch) {
        try {
          const o = observedFromEvent(e);
          const { labels } = await labelsOf(o);
          await run(o, false, labels);
        } catch (err) {
          stats.errors++;
          deps.logger?.error({ err: isWardenError(err) ? err.message : String(err), event: e.id, type: e.type }, 'abuse rules could not judge an event; it went unjudged');
        }
      }
    }
  }

  return {
    async screen(input) {
      const now = deps.clock.now();
      const o = observedFromAction({ ...input, time: now });
      const { labels, mitigations } = await labelsOf(o);
      for (const m of mitigations) {
        if (m.kind === 'deny') {
          const who = m.source.kind === 'rule' ? `abuse rule \`${m.source.rule}\`` : `analyst \`${m.source.principal}\``;
          return { labels, refusal: refusal(m.source.kind === 'rule' ? m.source.rule : 'mitigation', `${m.entity.kind} \`${m.entity.id}\` is barred until ${m.until} by ${who}: ${m.reason}`) };
        }
      }
      for (const m of mitigations) {
        if (m.kind !== 'throttle' || m.limit === undefined || m.windowMs === undefined) continue;
        const [n] = await deps.velocity.observe([{ key: `throttle\u0001${m.tenantId}\u0001${m.id}`, kind: 'count', windowMs: m.windowMs }], now.getTime());
        if ((n ?? 0) > m.limit) {
          return { labels, refusal: refusal(m.source.kind === 'rule' ? m.source.rule : 'mitigation', `${m.entity.kind} \`${m.entity.id}\` is throttled to ${m.limit} calls per ${m.windowMs / 1000} s until ${m.until}: ${m.reason}; retry later`) };
        }
      }
      if (deps.rules().synchronous.length === 0) return { labels };
      const r = await run(o, true, labels);
      if (r.added.length === 0) return { labels, ...(r.refusal ? { refusal: r.refusal } : {}) };
      // Labels a synchronous rule just gave are facts of this decision too.
      const more = { agent: [...labels.agent], principal: [...labels.principal], session: [...labels.session] };
      for (const a of r.added) if (a.entity.kind === 'agent' || a.entity.kind === 'principal' || a.entity.kind === 'session') more[a.entity.kind].push(a.name);
      return { labels: more, ...(r.refusal ? { refusal: r.refusal } : {}) };
    },

    observe(events) {
      if (deps.rules().asynchronous.length === 0) return;
      for (const e of events) {
        // The engine's own verdicts are not fed back to it: a rule on them could feed itself.
        if (e.type.startsWith('abuse.')) continue;
        if (queue.length >= maxQueue) {
          stats.dropped++;
          const t = Date.now();
          if (t - lastDropWarning > 10_000) {
            lastDropWarning = t;
            deps.logger?.warn({ dropped: stats.dropped, maxQueue }, 'abuse rules fall behind the event stream; events beyond the queue go unjudged');
          }
          continue;
        }
        stats.observed++;
        queue.push(e);
      }
      if (!draining && queue.length > 0) {
        draining = drain().finally(() => {
          draining = undefined;
        });
      }
    },

    async idle() {
      while (draining) await draining;
    },

    forget(tenantId, entities) {
      tenantFacts.delete(tenantId);
      for (const e of entities) facts.delete(factKey(tenantId, e));
    },

    stats: () => ({ ...stats }),
  };
}
