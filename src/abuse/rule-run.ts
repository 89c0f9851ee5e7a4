import type { EntityLabels } from '../domain/index.js';
import { describeCelError, isUnder, toCelValue } from '../policy/index.js';
import { fingerprintOf, type Observed } from './observed.js';
import type { AbuseRule } from './rule-compile.js';
import type { VelocityRead, VelocityStore } from './velocity.js';

/** The velocity store as rules use it (src/abuse/velocity.ts: memory, or Redis for replicas). */
export type VelocityPort = Pick<VelocityStore, 'observe' | 'peek'>;

/** A rule whose condition held, with the feature values it saw. */
export interface RuleHit {
  rule: AbuseRule;
  observed: Observed;
  features: Record<string, number>;
}

/** Why a rule could not be judged (its condition failed, say): it gives no verdict. */
export interface RuleFailure {
  rule: AbuseRule;
  error: string;
}

/** Whether a rule reads this observation: its tenant, scope, event types (asynchronous), actions, tools and effects. */
export function ruleReads(rule: AbuseRule, o: Observed): boolean {
  if (rule.tenant !== undefined && rule.tenant !== o.tenantId) return false;
  if (rule.scope !== undefined && !isUnder(o.scope, rule.scope)) return false;
  if (!rule.synchronous && !rule.on(o.type)) return false;
  if (rule.actions && (o.kind === undefined || !rule.actions.has(o.kind))) return false;
  if (rule.tools && (o.entities.tool === undefined || !rule.tools(o.entities.tool))) return false;
  if (rule.effects && !rule.synchronous && (o.effect === undefined || !rule.effects.has(o.effect))) return false;
  return true;
}

/** What a rule's CEL sees of an observation (docs/abuse.md lists it). */
export function abuseActivation(o: Observed, labels: EntityLabels, features: Record<string, number>): Record<string, unknown> {
  const e = o.entities;
  return {
    event: toCelValue(o.event),
    action: { kind: o.kind ?? '', scope: o.scope },
    agent: { id: e.agent ?? '', labels: [...labels.agent] },
    principal: { id: e.principal ?? '', labels: [...labels.principal] },
    session: { id: e.session ?? '', labels: [...labels.session] },
    tool: o.tool ? toCelValue(o.tool) : {},
    server: e.server !== undefined ? { name: e.server } : {},
    resource: o.resource ? toCelValue(o.resource) : {},
    args: toCelValue(o.args ?? {}),
    text: o.text,
    fingerprint: (o.fingerprint ??= fingerprintOf(o.text)),
    findings: toCelValue(o.findings),
    effect: o.effect ?? '',
    features: toCelValue(features),
  };
}

/** The key a feature of an entity is counted under: tenant, rule, feature and entity, none able to run into the next. */
export function featureKey(tenantId: string, rule: string, feature: string, entity: string): string {
  return `${tenantId}\u0001${rule}\u0001${feature}\u0001${entity}`;
}

/**
 * Runs rules on one observation: records (or, `record: false`, only reads) every feature of every
 * rule in one call to the velocity store (one Redis round trip per event, not one per rule), then
 * evaluates each condition in order. A feature whose entity the observation lacks reads 0 and records
 * nothing. A store that fails rejects (the caller fails closed or records the miss); a condition
 * that fails is a failure, never a hit. One result per rule, in order.
 */
export async function runRules(rules: readonly AbuseRule[], o: Observed, ctx: { velocity: VelocityPort; labels: EntityLabels; record: boolean }): Promise<(RuleHit | RuleFailure | undefined)[]> {
  // What every condition sees but its features, built once for the event; `features` is set per rule
  // just before its condition runs (evaluation is synchronous, so no rule sees another's).
  let base: Record<string, unknown> | undefined;
  const activation = () => (base ??= abuseActivation(o, ctx.labels, {}));
  const features: Record<string, number>[] = rules.map(() => ({}));
  const reads: VelocityRead[] = [];
  const slots: { rule: number; name: string }[] = [];
  rules.forEach((rule, ri) => {
    for (const f of rule.features) {
      const entity = o.entities[f.entity];
      features[ri]![f.name] = 0;
      if (entity === undefined) continue;
      let member: string | undefined;
      if (f.of) {
        let v: unknown;
        try {
          v = f.of(activation());
        } catch {
          continue;
        }
        if (v === undefined || v === null) continue;
        member = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
      }
      reads.push({ key: featureKey(o.tenantId, rule.name, f.name, entity), kind: f.kind, windowMs: f.windowMs, ...(member !== undefined ? { member } : {}) });
      slots.push({ rule: ri, name: f.name });
    }
  });
  if (reads.length > 0) {
    const values = ctx.record ? await ctx.velocity.observe(reads, o.time.getTime()) : await ctx.velocity.peek(reads, o.time.getTime());
    slots.forEach((slot, i) => (features[slot.rule]![slot.name] = values[i] ?? 0));
  }
  return rules.map((rule, ri) => {
    const a = activation();
    a.features = toCelValue(features[ri]);
    let v: unknown;
    try {
      v = rule.when(a);
    } catch (err) {
      return { rule, error: describeCelError(err) };
    }
    if (v === true) return { rule, observed: o, features: features[ri]! };
    if (v !== false) return { rule, error: `condition returned a ${v === null ? 'null' : typeof v}, not a bool` };
    return undefined;
  });
}

/** One rule on one observation (see {@link runRules}). */
export async function runRule(rule: AbuseRule, o: Observed, ctx: { velocity: VelocityPort; labels: EntityLabels; record: boolean }): Promise<RuleHit | RuleFailure | undefined> {
  return (await runRules([rule], o, ctx))[0];
}

export function isHit(r: RuleHit | RuleFailure | undefined): r is RuleHit {
  return r !== undefined && 'observed' in r;
}

/** The entity a hit is about, for cooldowns and replay: the agent, else the principal, session, address or scope. */
export function subjectOf(o: Observed): string {
  const e = o.entities;
  return e.agent ?? e.principal ?? e.session ?? e.ip ?? e.scope ?? '';
}

const MAX_COOLDOWNS = 100_000;

/** Per rule and entity, until when a rule stays quiet after a hit (bounded; the oldest go first). */
export function createCooldowns(): { take(hit: RuleHit): boolean } {
  const until = new Map<string, number>();
  return {
    /** True when the hit may give its verdicts now (and starts the rule's cooldown on its entity). */
    take(hit) {
      const { rule, observed: o } = hit;
      if (rule.cooldownMs <= 0) return true;
      const key = `${o.tenantId}\u0001${rule.name}\u0001${subjectOf(o)}`;
      const at = o.time.getTime();
      const quietUntil = until.get(key);
      if (quietUntil !== undefined && at < quietUntil) return false;
      until.delete(key);
      if (until.size >= MAX_COOLDOWNS) until.delete(until.keys().next().value!);
      until.set(key, at + rule.cooldownMs);
      return true;
    },
  };
}
