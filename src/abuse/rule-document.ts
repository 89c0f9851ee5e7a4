import { Type, type Static } from '@sinclair/typebox';
import { FineDuration } from '../policy/index.js';
import { ACTION_KINDS, ConnotationSchema, EFFECTS, LabelNameSchema, ScopePathSchema, SEVERITIES_ABUSE } from '../domain/index.js';

const Duration = FineDuration;
const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'lower-case letters, digits and `-`' });
const Strings = (max: number) => Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: max });

/** What a feature, a label or a verdict is about: an entity of the event. */
export const RULE_ENTITIES = ['agent', 'principal', 'session', 'server', 'tool', 'ip', 'scope'] as const;
export type RuleEntity = (typeof RULE_ENTITIES)[number];
const Entity = Type.Union(RULE_ENTITIES.map((e) => Type.Literal(e)));

/**
 * A velocity feature over a sliding window, kept per entity: `count` of matching events,
 * `distinct` values of the CEL expression `of`, `rate` in events per second.
 */
const Feature = Type.Union([
  Type.Object({ count: Entity, window: Duration }, { additionalProperties: false }),
  Type.Object({ distinct: Entity, of: Type.String({ minLength: 1, maxLength: 1000 }), window: Duration }, { additionalProperties: false }),
  Type.Object({ rate: Entity, window: Duration }, { additionalProperties: false }),
]);
export type FeatureDoc = Static<typeof Feature>;

/** What a rule does when its condition holds, in the order written. */
const Verdict = Type.Union([
  Type.Object({ label: Type.Object({ entity: Type.Optional(Entity), name: LabelNameSchema, connotation: Type.Optional(ConnotationSchema), for: Type.Optional(Duration) }, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ unlabel: Type.Object({ entity: Type.Optional(Entity), name: LabelNameSchema }, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ throttle: Type.Object({ entity: Type.Optional(Entity), limit: Type.Integer({ minimum: 1, maximum: 1_000_000 }), window: Duration, for: Duration }, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ deny: Type.Object({ entity: Type.Optional(Entity), for: Duration }, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ suspend: Type.Object({}, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ kill: Type.Object({}, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object(
    {
      review: Type.Object(
        {
          entity: Type.Optional(Entity),
          /** What confirming the case applies (deny or throttle for a time, suspend, kill, a label). */
          propose: Type.Optional(
            Type.Array(
              Type.Union([
                Type.Object({ deny: Type.Object({ for: Duration }, { additionalProperties: false }) }, { additionalProperties: false }),
                Type.Object({ throttle: Type.Object({ limit: Type.Integer({ minimum: 1 }), window: Duration, for: Duration }, { additionalProperties: false }) }, { additionalProperties: false }),
                Type.Object({ suspend: Type.Object({}, { additionalProperties: false }) }, { additionalProperties: false }),
                Type.Object({ kill: Type.Object({}, { additionalProperties: false }) }, { additionalProperties: false }),
                Type.Object({ label: Type.Object({ name: LabelNameSchema, connotation: Type.Optional(ConnotationSchema), for: Type.Optional(Duration) }, { additionalProperties: false }) }, { additionalProperties: false }),
              ]),
              { maxItems: 8 },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);
export type VerdictDoc = Static<typeof Verdict>;

/**
 * `kind: AbuseRule` (docs/abuse.md): a condition over the event stream with velocity features, and
 * the verdicts it gives. Shadow mode (the default) only records what the verdicts would have done.
 */
export const AbuseRuleDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('AbuseRule'),
    metadata: Type.Object(
      {
        name: Name,
        /** The rule sees events at this scope and below; absent: every scope of the tenant. */
        scope: Type.Optional(ScopePathSchema),
        /** The tenant it applies to; absent: every tenant. */
        tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        description: Type.Optional(Type.String({ maxLength: 2000 })),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        mode: Type.Optional(Type.Union([Type.Literal('enforce'), Type.Literal('shadow')])),
        /**
         * Runs in the checkpoint before the decision, on the action being decided (so a verdict can
         * refuse it); otherwise on each event once it is recorded.
         */
        synchronous: Type.Optional(Type.Boolean()),
        category: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
        severity: Type.Optional(Type.Union(SEVERITIES_ABUSE.map((s) => Type.Literal(s)))),
        /** Audit event types it reads (globs such as `tool.call.*`); synchronous rules read the action being decided. @default ["*.decided"] */
        on: Type.Optional(Strings(32)),
        match: Type.Optional(
          Type.Object(
            {
              actions: Type.Optional(Type.Array(Type.Union(ACTION_KINDS.map((k) => Type.Literal(k))), { maxItems: 8 })),
              /** Globs over `server.tool` (case-folded, as policy `match.tools`). */
              tools: Type.Optional(Strings(64)),
              effects: Type.Optional(Type.Array(Type.Union(EFFECTS.map((e) => Type.Literal(e))), { maxItems: 3 })),
            },
            { additionalProperties: false },
          ),
        ),
        features: Type.Optional(Type.Record(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_]{0,31}$' }), Feature, { maxProperties: 8 })),
        when: Type.String({ minLength: 1, maxLength: 4000 }),
        verdicts: Type.Array(Verdict, { minItems: 1, maxItems: 8 }),
        /**
         * After a hit on an entity, the rule gives no verdict on it again (and a shadow rule records
         * none) until this passes: a burst is one hit, not one per event past the threshold. @default 1m
         */
        cooldown: Type.Optional(Duration),
        /** Why, as labels, cases and denials say it. */
        reason: Type.String({ minLength: 1, maxLength: 1000 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type AbuseRuleDoc = Static<typeof AbuseRuleDocSchema>;

/** `kind: AbuseQueue`: where cases go, by scope and category, and how soon they must be decided. */
export const AbuseQueueDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('AbuseQueue'),
    metadata: Type.Object({ name: Name, description: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
    spec: Type.Object(
      {
        scopes: Type.Optional(Type.Array(ScopePathSchema, { maxItems: 64 })),
        categories: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), { maxItems: 64 })),
        sla: Duration,
        escalateTo: Type.Optional(Name),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type AbuseQueueDoc = Static<typeof AbuseQueueDocSchema>;
