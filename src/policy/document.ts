import { Type, type Static } from '@sinclair/typebox';
import { ActionKindSchema, FINDING_CATEGORIES, ScopePathSchema } from '../domain/index.js';

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 128, description: 'a lowercase name of letters, digits and `-`' });
const Globs = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 256 });
const ScopeList = Type.Union([ScopePathSchema, Type.Array(ScopePathSchema, { minItems: 1, maxItems: 1000 })]);
const Duration = Type.String({ pattern: '^[0-9]+(s|m|h|d)$', description: 'a duration such as `30m`, `2h` or `1d`' });

export const MODES = ['enforce', 'warn', 'disabled'] as const;
export type Mode = (typeof MODES)[number];

/** `match`: which actions a rule is about; everything else is said in `when`. */
export const MatchSchema = Type.Object(
  {
    actions: Type.Optional(Type.Array(ActionKindSchema, { minItems: 1 })),
    servers: Type.Optional(Globs),
    tools: Type.Optional(Globs),
    /** Globs over resource URIs (`resource.read`, `resource.list`). */
    resources: Type.Optional(Globs),
    agents: Type.Optional(Globs),
    roles: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const ApprovalSpecSchema = Type.Object(
  {
    approvers: Type.Optional(
      Type.Object(
        {
          roles: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
          principals: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    timeout: Type.Optional(Duration),
    /** `once` (default): an approval releases one call with this digest. `session`: the same tool and arguments again within the session, until it expires. */
    reuse: Type.Optional(Type.Union([Type.Literal('once'), Type.Literal('session')])),
    /** Approvers must have signed in with OIDC at most this long ago (high-risk tools). */
    reauth: Type.Optional(Duration),
    /**
     * `principal`: the person the agent acts for confirms the call themselves (an MCP elicitation
     * prompt), audited like an approval and never counted as one of `count`. Alone, it is all the
     * rule asks; with `approvers`, both are needed.
     */
    confirm: Type.Optional(Type.Literal('principal')),
  },
  { additionalProperties: false },
);

/** A scope's approval settings; the nearest scope that sets a field wins. */
export const ApprovalSettingsSchema = Type.Object(
  {
    minCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'at least this many distinct approvers, whatever a rule says' })),
    timeout: Type.Optional(Type.String({ pattern: '^[0-9]+(s|m|h|d)$', description: 'how long a request stays pending when its rule names no timeout (default 1h)' })),
    agentOwnerMayApprove: Type.Optional(Type.Boolean({ description: "whether the owner of the requesting agent may approve its requests (default false)" })),
    reauth: Type.Optional(Type.String({ pattern: '^[0-9]+(s|m|h|d)$', description: 'approvers must have signed in with OIDC at most this long ago, for every request at this scope' })),
  },
  { additionalProperties: false },
);
export type ApprovalSettingsDoc = Static<typeof ApprovalSettingsSchema>;

/** A duration that may be shorter than a second: `500ms`, `2s`, `5m`. */
/** The one duration text schema (`durationMs` reads it): policies' timeouts, abuse rules' windows, tool arguments. */
export const FineDuration = Type.String({ pattern: '^[0-9]{1,9}(ms|s|m|h|d)$', description: 'a duration such as `500ms`, `2s` or `5m`' });

/**
 * One external status check of a rule (`checks:`): the checkpoint POSTs the action to `url` and
 * folds the answer into the decision (docs/approvals.md, "External status checks").
 */
export const CheckSpecSchema = Type.Object(
  {
    name: Name,
    /** An `https` (or `http`) URL; a literal private, loopback or link-local host is refused at load unless allow-listed. */
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    /** How long to wait for the answer. @default 5s (at most 60s) */
    timeout: Type.Optional(FineDuration),
    /** What a timeout, an HTTP error or a malformed answer counts as. @default deny */
    onError: Type.Optional(Type.Union([Type.Literal('deny'), Type.Literal('allow')])),
    /** How long an answer is reused for the same action digest. @default no reuse */
    cache: Type.Optional(FineDuration),
  },
  { additionalProperties: false },
);
export type CheckSpec = Static<typeof CheckSpecSchema>;

export const RuleSchema = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String()),
    match: Type.Optional(MatchSchema),
    when: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    effect: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('require_approval')]),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
    approval: Type.Optional(ApprovalSpecSchema),
    checks: Type.Optional(Type.Array(CheckSpecSchema, { minItems: 1, maxItems: 16 })),
    /**
     * An allow rule only: how long an enforcement point (the SDK) may reuse the allow for the same
     * action without asking again. The decision says so (`cache.ttlMs`) only when every rule that
     * allowed it sets `cache` and nothing else shaped it (no finding, redaction, approval, check or
     * condition error). @default no reuse
     */
    cache: Type.Optional(FineDuration),
  },
  { additionalProperties: false },
);
export type RuleDoc = Static<typeof RuleSchema>;

const Category = Type.Union(FINDING_CATEGORIES.map((c) => Type.Literal(c)));

/**
 * `spec.scan`: which detectors run on actions in the policy's scopes, on input and/or output, with
 * per-category minimum scores, and which categories are masked (`[REDACTED:<category>]`).
 */
export const ScanSpecSchema = Type.Object(
  {
    detectors: Type.Optional(Type.Array(Category, { minItems: 1 })),
    on: Type.Optional(Type.Array(Type.Union([Type.Literal('input'), Type.Literal('output')]), { minItems: 1 })),
    thresholds: Type.Optional(Type.Partial(Type.Object(Object.fromEntries(FINDING_CATEGORIES.map((c) => [c, Type.Number({ minimum: 0, maximum: 1 })])), { additionalProperties: false }))),
    redact: Type.Optional(Type.Array(Category, { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type ScanSpec = Static<typeof ScanSpecSchema>;

/** A `kind: Policy` document (v1). */
export const PolicyDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('Policy'),
    metadata: Type.Object(
      {
        name: Name,
        scope: ScopeList,
        exclude: Type.Optional(Type.Array(ScopePathSchema)),
        mode: Type.Optional(Type.Union(MODES.map((m) => Type.Literal(m)))),
        version: Type.Optional(Type.Integer({ minimum: 1 })),
        description: Type.Optional(Type.String()),
        owner: Type.Optional(Type.String()),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object({ scan: Type.Optional(ScanSpecSchema), rules: Type.Array(RuleSchema, { maxItems: 10000 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type PolicyDoc = Static<typeof PolicyDocSchema>;

/** A `kind: ScopeSettings` document: per-scope defaults; the nearest ancestor's settings win. */
export const ScopeSettingsDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('ScopeSettings'),
    metadata: Type.Object({ scope: ScopePathSchema, description: Type.Optional(Type.String()) }, { additionalProperties: false }),
    spec: Type.Object(
      {
        defaultEffect: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('require_approval')])),
        timezone: Type.Optional(Type.String({ minLength: 1 })),
        policyApprovals: Type.Optional(
          Type.Integer({ minimum: 0, maximum: 10, description: 'distinct approvals a managed policy version at this scope needs before it is activated (nearest scope wins; default 1; 0: no review)' }),
        ),
        approvals: Type.Optional(ApprovalSettingsSchema),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ScopeSettingsDoc = Static<typeof ScopeSettingsDocSchema>;

/** A `*.test.yaml` file: cases run against the policies beside it. */
export const PolicyTestFileSchema = Type.Object(
  {
    tests: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          action: Type.Unknown(),
          expect: Type.Object(
            {
              effect: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('require_approval')]),
              rule: Type.Optional(Type.String({ description: '`policy/rule` that must be among the reasons' })),
              warnings: Type.Optional(Type.Array(Type.String())),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type PolicyTestFile = Static<typeof PolicyTestFileSchema>;
