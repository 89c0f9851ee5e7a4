import type { AuditEvent, EntityLabels } from '../domain/index.js';
import { observedFromEvent, textOf, type Observed } from './observed.js';
import type { AbuseRule, AbuseRuleSet } from './rule-compile.js';
import type { RuleEntity } from './rule-document.js';
import { createCooldowns, isHit, ruleReads, runRules, subjectOf, type VelocityPort } from './rule-run.js';

/** One hit as replay shows it. */
export interface AbuseReplaySample {
  eventId: string;
  time: string;
  scope: string;
  type: string;
  entity: string;
  features: Record<string, number>;
}

/** What one rule would have done over the range. */
export interface AbuseReplayRule {
  rule: string;
  mode: 'enforce' | 'shadow';
  synchronous: boolean;
  category: string;
  hits: number;
  /** Distinct agents (or, for a rule without one, principals or sessions) it would have hit. */
  entities: number;
  failures: number;
  samples: AbuseReplaySample[];
}

/** `warden abuse replay`'s report. */
export interface AbuseReplayReport {
  read: number;
  durationMs: number;
  eventsPerSecond: number;
  rules: AbuseReplayRule[];
  /** Synchronous rules ran on decision events; those whose arguments were not captured were judged without them. */
  withoutArgs: number;
}

/**
 * Runs rules over recorded events, in their order, on a fresh velocity store: what each would have
 * hit. Synchronous rules run on each recorded decision as on the action before it (its arguments
 * when they were captured). Label verdicts are kept in memory for the run, so a rule that reads a
 * label another rule gives sees it; nothing else is applied and nothing is written.
 */
export async function replayAbuseRules(
  events: AsyncIterable<AuditEvent>,
  set: AbuseRuleSet,
  opts: { velocity: VelocityPort; samples?: number; onProgress?: (read: number) => void },
): Promise<AbuseReplayReport> {
  const started = performance.now();
  const samples = opts.samples ?? 5;
  const stats = new Map<string, AbuseReplayRule & { seen: Set<string> }>();
  for (const r of set.rules) stats.set(r.name, { rule: r.name, mode: r.mode, synchronous: r.synchronous, category: r.category, hits: 0, entities: 0, failures: 0, samples: [], seen: new Set() });
  // Labels the replayed rules give: entity key → name → expiry (ms; Infinity when none).
  const labels = new Map<string, Map<string, number>>();
  const key = (tenant: string, kind: RuleEntity, id: string) => `${tenant}\u0001${kind}\u0001${id}`;
  const labelsOf = (o: Observed): EntityLabels => {
    const at = o.time.getTime();
    const live = (kind: 'agent' | 'principal' | 'session') => {
      const id = o.entities[kind];
      const m = id === undefined ? undefined : labels.get(key(o.tenantId, kind, id));
      return m ? [...m].filter(([, until]) => until > at).map(([n]) => n) : [];
    };
    return { agent: live('agent'), principal: live('principal'), session: live('session') };
  };
  let read = 0;
  let withoutArgs = 0;
  // Hits inside a rule's cooldown are not counted, as the live engine gives them no verdict.
  const cooldowns = createCooldowns();

  const judge = async (rules: readonly AbuseRule[], o: Observed) => {
    const reading = rules.filter((rule) => ruleReads(rule, o));
    if (reading.length === 0) return;
    const results = await runRules(reading, o, { velocity: opts.velocity, labels: labelsOf(o), record: true });
    for (const r of results) {
      if (r === undefined) continue;
      const s = stats.get(r.rule.name)!;
      if (!isHit(r)) {
        s.failures++;
        continue;
      }
      if (!cooldowns.take(r)) continue;
      s.hits++;
      const who = subjectOf(o);
      s.seen.add(who);
      if (s.samples.length < samples) s.samples.push({ eventId: o.eventId ?? '', time: o.time.toISOString(), scope: o.scope, type: o.type, entity: who, features: r.features });
      for (const v of r.rule.verdicts) {
        if (v.kind !== 'label' && v.kind !== 'unlabel') continue;
        const id = o.entities[v.entity];
        if (id === undefined) continue;
        const k = key(o.tenantId, v.entity, id);
        if (v.kind === 'unlabel') labels.get(k)?.delete(v.name);
        else {
          const m = labels.get(k) ?? new Map<string, number>();
          m.set(v.name, v.forMs ? o.time.getTime() + v.forMs : Infinity);
          labels.set(k, m);
        }
      }
    }
  };

  for await (const e of events) {
    read++;
    if (read % 1000 === 0) opts.onProgress?.(read);
    if (e.type.startsWith('abuse.')) continue;
    const o = observedFromEvent(e);
    if (set.synchronous.length > 0 && e.category === 'decision' && o.kind !== undefined) {
      const args = e.payload?.args;
      const captured = args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : undefined;
      if (!captured) withoutArgs++;
      const before: Observed = { ...o, type: `${o.kind}.requested`, effect: undefined, args: captured, text: captured ? textOf(captured) : '' };
      await judge(set.synchronous, before);
    }
    await judge(set.asynchronous, o);
  }
  opts.onProgress?.(read);
  const durationMs = performance.now() - started;
  return {
    read,
    durationMs: Math.round(durationMs),
    eventsPerSecond: durationMs > 0 ? Math.round((read / durationMs) * 1000) : read,
    rules: [...stats.values()].map(({ seen, ...r }) => ({ ...r, entities: seen.size })),
    withoutArgs,
  };
}
