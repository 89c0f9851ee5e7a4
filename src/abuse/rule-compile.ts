import { compileGlobs, compileValidator, digestJson, type ActionKind, type Connotation, type Effect, type GlobMatcher, type ProposedMitigation } from '../domain/index.js';
import { celCompilerFor, durationMs, readYamlDocuments, schemaIssueDiagnostics, type CelProgram, type Diagnostic, type Located } from '../policy/index.js';
import type { VelocityKind } from './velocity.js';
import { AbuseQueueDocSchema, AbuseRuleDocSchema, type AbuseQueueDoc, type AbuseRuleDoc, type RuleEntity, type VerdictDoc } from './rule-document.js';


/** The variables an abuse rule's `when` (and a `distinct` feature's `of`) sees: docs/abuse.md. */
export const ABUSE_CEL_VARIABLES = ['event', 'action', 'agent', 'principal', 'session', 'tool', 'server', 'resource', 'args', 'text', 'fingerprint', 'findings', 'effect', 'features'] as const;

/** One velocity feature, compiled: the key it is counted under names the tenant, the rule, the feature and the entity. */
export interface CompiledFeature {
  readonly name: string;
  readonly kind: VelocityKind;
  readonly entity: RuleEntity;
  readonly windowMs: number;
  /** `distinct` only: the value counted. */
  readonly of?: CelProgram;
}

/** A verdict, compiled: durations in milliseconds, the entity resolved to its default (the agent). */
export type CompiledVerdict =
  | { readonly kind: 'label'; readonly entity: RuleEntity; readonly name: string; readonly connotation: Connotation; readonly forMs?: number }
  | { readonly kind: 'unlabel'; readonly entity: RuleEntity; readonly name: string }
  | { readonly kind: 'throttle'; readonly entity: RuleEntity; readonly limit: number; readonly windowMs: number; readonly forMs: number }
  | { readonly kind: 'deny'; readonly entity: RuleEntity; readonly forMs: number }
  | { readonly kind: 'suspend' }
  | { readonly kind: 'kill' }
  | { readonly kind: 'review'; readonly entity: RuleEntity; readonly propose: readonly ProposedMitigation[] };

/** An abuse rule ready to run. */
export interface AbuseRule {
  readonly name: string;
  readonly tenant?: string | undefined;
  readonly scope?: string | undefined;
  readonly mode: 'enforce' | 'shadow';
  readonly synchronous: boolean;
  readonly category: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  /** Which audit event types it reads (asynchronous rules). */
  readonly on: GlobMatcher;
  readonly actions?: ReadonlySet<ActionKind> | undefined;
  readonly tools?: GlobMatcher | undefined;
  readonly effects?: ReadonlySet<Effect> | undefined;
  readonly features: readonly CompiledFeature[];
  readonly when: CelProgram;
  readonly whenSource: string;
  readonly verdicts: readonly CompiledVerdict[];
  readonly reason: string;
  /** After a hit on an entity, no verdict on it again for this long (0: every event). */
  readonly cooldownMs: number;
  /** Where it was read from: `file` or `default-pack/<file>`. */
  readonly source: string;
}

/** A review queue's route, compiled (the case service routes by it). */
export interface QueueRoute {
  name: string;
  scopes: readonly string[];
  categories: readonly string[];
  slaMs: number;
  escalateTo?: string;
}

/** Every abuse rule and queue in force. */
export interface AbuseRuleSet {
  readonly rules: readonly AbuseRule[];
  readonly asynchronous: readonly AbuseRule[];
  readonly synchronous: readonly AbuseRule[];
  readonly queues: readonly QueueRoute[];
  /** Digest of the sources: what replay and audit events name. */
  readonly version: string;
}

/** One file of abuse documents. */
export interface AbuseRuleSource {
  file: string;
  text: string;
}

/** How long a rule stays quiet about an entity after a hit, unless it says otherwise. */
export const DEFAULT_COOLDOWN_MS = 60_000;

const checkRule = compileValidator(AbuseRuleDocSchema);
const checkQueue = compileValidator(AbuseQueueDocSchema);
const compileCondition = celCompilerFor(ABUSE_CEL_VARIABLES);

const ms = (d: string): number => durationMs(d)!;

function verdictOf(v: VerdictDoc): CompiledVerdict {
  if ('label' in v) return { kind: 'label', entity: v.label.entity ?? 'agent', name: v.label.name, connotation: v.label.connotation ?? 'bad', ...(v.label.for ? { forMs: ms(v.label.for) } : {}) };
  if ('unlabel' in v) return { kind: 'unlabel', entity: v.unlabel.entity ?? 'agent', name: v.unlabel.name };
  if ('throttle' in v) return { kind: 'throttle', entity: v.throttle.entity ?? 'agent', limit: v.throttle.limit, windowMs: ms(v.throttle.window), forMs: ms(v.throttle.for) };
  if ('deny' in v) return { kind: 'deny', entity: v.deny.entity ?? 'agent', forMs: ms(v.deny.for) };
  if ('suspend' in v) return { kind: 'suspend' };
  if ('kill' in v) return { kind: 'kill' };
  const propose: ProposedMitigation[] = (v.review.propose ?? []).map((p) => {
    if ('deny' in p) return { kind: 'deny', forMs: ms(p.deny.for) };
    if ('throttle' in p) return { kind: 'throttle', limit: p.throttle.limit, windowMs: ms(p.throttle.window), forMs: ms(p.throttle.for) };
    if ('suspend' in p) return { kind: 'suspend' };
    if ('kill' in p) return { kind: 'kill' };
    return { kind: 'label', name: p.label.name, connotation: p.label.connotation ?? 'bad', ...(p.label.for ? { forMs: ms(p.label.for) } : {}) };
  });
  return { kind: 'review', entity: v.review.entity ?? 'agent', propose };
}

/** Compiles one rule document; diagnostics point into its file. */
function compileRule(doc: AbuseRuleDoc, loc: Located<unknown>['loc'], source: string, diagnostics: Diagnostic[]): AbuseRule | undefined {
  const cel = (expr: string, path: (string | number)[], value = false): CelProgram | undefined => {
    const r = compileCondition(expr, { value });
    if (r.ok) return r.program;
    diagnostics.push({ severity: 'error', code: 'abuse.rule_invalid', message: `\`${path.join('.')}\`: ${r.error.message}`, span: loc.inString(path, r.error.start) });
    return undefined;
  };
  const spec = doc.spec;
  const when = cel(spec.when, ['spec', 'when']);
  const features: CompiledFeature[] = [];
  for (const [name, f] of Object.entries(spec.features ?? {})) {
    if ('count' in f) features.push({ name, kind: 'count', entity: f.count, windowMs: ms(f.window) });
    else if ('rate' in f) features.push({ name, kind: 'rate', entity: f.rate, windowMs: ms(f.window) });
    else {
      const of = cel(f.of, ['spec', 'features', name, 'of'], true);
      if (of) features.push({ name, kind: 'distinct', entity: f.distinct, windowMs: ms(f.window), of });
    }
  }
  const synchronous = spec.synchronous ?? false;
  if (synchronous && spec.verdicts.some((v) => 'unlabel' in v)) {
    // Allowed, but say nothing: unlabel is as cheap before a decision as after.
  }
  if (when === undefined) return undefined;
  const tools = spec.match?.tools;
  return {
    name: doc.metadata.name,
    tenant: doc.metadata.tenant,
    scope: doc.metadata.scope,
    mode: spec.mode ?? 'shadow',
    synchronous,
    category: spec.category,
    severity: spec.severity ?? 'medium',
    on: compileGlobs(spec.on ?? ['*.decided']),
    actions: spec.match?.actions ? new Set(spec.match.actions) : undefined,
    tools: tools ? compileGlobs(tools, { foldCase: true }) : undefined,
    effects: spec.match?.effects ? new Set(spec.match.effects) : undefined,
    features,
    when,
    whenSource: spec.when,
    verdicts: spec.verdicts.map(verdictOf),
    reason: spec.reason,
    cooldownMs: spec.cooldown ? ms(spec.cooldown) : DEFAULT_COOLDOWN_MS,
    source,
  };
}

function queueOf(doc: AbuseQueueDoc): QueueRoute {
  return {
    name: doc.metadata.name,
    scopes: doc.spec.scopes ?? [],
    categories: doc.spec.categories ?? [],
    slaMs: ms(doc.spec.sla),
    ...(doc.spec.escalateTo ? { escalateTo: doc.spec.escalateTo } : {}),
  };
}

/**
 * Reads and compiles abuse documents (`kind: AbuseRule`, `kind: AbuseQueue`): the set, or the
 * diagnostics that keep it from loading. Two rules of one name refuse the set (cases and replay name them).
 */
export function loadAbuseSources(sources: readonly AbuseRuleSource[]): { set?: AbuseRuleSet; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const rules: AbuseRule[] = [];
  const queues: QueueRoute[] = [];
  const names = new Set<string>();
  for (const { file, text } of sources) {
    const read = readYamlDocuments(file, text);
    diagnostics.push(...read.diagnostics);
    for (const { value, loc } of read.docs) {
      const kind = (value as { kind?: unknown } | null)?.kind;
      if (kind === 'AbuseRule') {
        const r = checkRule(value);
        if (!r.ok) {
          diagnostics.push(...schemaIssueDiagnostics(r.issues, loc, 'abuse.rule_invalid'));
          continue;
        }
        if (names.has(r.value.metadata.name)) {
          diagnostics.push({ severity: 'error', code: 'abuse.rule_invalid', message: `a second abuse rule named \`${r.value.metadata.name}\``, span: loc.at(['metadata', 'name']), help: 'rule names are unique: cases, verdicts and replay name rules by them' });
          continue;
        }
        names.add(r.value.metadata.name);
        const rule = compileRule(r.value, loc, file, diagnostics);
        if (rule) rules.push(rule);
      } else if (kind === 'AbuseQueue') {
        const r = checkQueue(value);
        if (r.ok) queues.push(queueOf(r.value));
        else diagnostics.push(...schemaIssueDiagnostics(r.issues, loc, 'abuse.rule_invalid'));
      } else {
        diagnostics.push({ severity: 'error', code: 'abuse.rule_invalid', message: kind === undefined ? 'the document has no `kind`' : `unknown kind \`${String(kind)}\``, span: loc.at(['kind']), help: 'use `kind: AbuseRule` or `kind: AbuseQueue` with `apiVersion: warden.dev/v1`' });
      }
    }
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { set: abuseRuleSet(rules, queues, digestJson(sources.map((s) => [s.file, s.text]))), diagnostics };
}

/** A set over compiled rules and queues. */
export function abuseRuleSet(rules: readonly AbuseRule[], queues: readonly QueueRoute[], version: string): AbuseRuleSet {
  return Object.freeze({ rules, asynchronous: rules.filter((r) => !r.synchronous), synchronous: rules.filter((r) => r.synchronous), queues, version });
}

/** No rules and no queues. */
export const EMPTY_ABUSE_RULES: AbuseRuleSet = abuseRuleSet([], [], 'empty');
