import { Type, type Static } from '@sinclair/typebox';
import { NO_NUL_PATTERN } from './validate.js';

/** Kinds of agent action the checkpoint understands. */
export const ACTION_KINDS = ['tool.call', 'tool.list', 'resource.read', 'resource.list', 'prompt.get', 'model.request'] as const;
export const ActionKindSchema = Type.Union(ACTION_KINDS.map((k) => Type.Literal(k)));
export type ActionKind = (typeof ACTION_KINDS)[number];

/** A scope path: `org/group/subgroup/project`, segments of letters, digits, `.`, `_`, `-`. */
export const ScopePathSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$',
  maxLength: 512,
  description: 'a scope path such as `acme/platform/payments`',
});
export type ScopePath = Static<typeof ScopePathSchema>;

const Attributes = Type.Record(Type.String(), Type.Unknown());

/** A person or service account, with roles in the acting scope. */
export const PrincipalSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN }),
    type: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('service')])),
    roles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 256 })),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type Principal = Static<typeof PrincipalSchema>;

/** An AI agent identity. */
export const AgentSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN }),
    kind: Type.Optional(Type.String({ maxLength: 128 })),
    owner: Type.Optional(Type.String({ maxLength: 256 })),
    model: Type.Optional(Type.String({ maxLength: 256 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type Agent = Static<typeof AgentSchema>;

export const RiskSchema = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);
export type Risk = Static<typeof RiskSchema>;

/** An MCP server as the registry knows it. */
export const ServerSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN }),
    owner: Type.Optional(Type.String({ maxLength: 256 })),
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('blocked')])),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type Server = Static<typeof ServerSchema>;

/** A tool on a server; `name` is what policies glob over (e.g. `deploy.release`). */
export const ToolSchema = Type.Object(
  {
    server: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN }),
    name: Type.String({ minLength: 1, maxLength: 512, pattern: NO_NUL_PATTERN }),
    risk: Type.Optional(RiskSchema),
    owner: Type.Optional(Type.String({ maxLength: 256 })),
    capabilities: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
    classification: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('blocked')])),
    definitionHash: Type.Optional(Type.String({ maxLength: 128 })),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type Tool = Static<typeof ToolSchema>;

/**
 * An RFC 3339 time that JavaScript can represent: the `date-time` format accepts a leap second
 * (`23:59:60Z`), which `Date` cannot hold, so seconds `60` are refused rather than turned into an
 * invalid time every condition then fails on.
 */
export const TimestampSchema = Type.String({
  format: 'date-time',
  pattern: '^(?![0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:60)',
  maxLength: 64,
  description: 'an RFC 3339 time such as `2026-11-24T22:00:00Z` with seconds 00 to 59 (a leap second `:60` cannot be represented: send `:59`)',
});

/**
 * Facts about the moment and place of an action, as the caller asserts them. Warden sets
 * `context.time` (its own clock), `hour`, `weekday` and `timezone` itself; a caller's `time` is kept
 * as `claimedTime` and decides only for a caller trusted to assert it (see the identify stage).
 */
export const ActionContextSchema = Type.Object(
  {
    time: Type.Optional(TimestampSchema),
    /** The time the caller asserted, kept when Warden's clock decided instead (the identify stage sets it). */
    claimedTime: Type.Optional(TimestampSchema),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    environment: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: Type.Unknown() },
);
export type ActionContext = Static<typeof ActionContextSchema>;

/** What an agent wants to do, as every enforcement point hands it to the checkpoint. */
export const ActionSchema = Type.Object(
  {
    kind: ActionKindSchema,
    scope: ScopePathSchema,
    agent: Type.Optional(AgentSchema),
    principal: Type.Optional(PrincipalSchema),
    tool: Type.Optional(ToolSchema),
    resource: Type.Optional(Type.Object({ uri: Type.String({ maxLength: 2048, pattern: NO_NUL_PATTERN }), server: Type.Optional(Type.String({ maxLength: 256, pattern: NO_NUL_PATTERN })) }, { additionalProperties: false })),
    args: Type.Optional(Attributes),
    context: Type.Optional(ActionContextSchema),
    /** The agent session the action belongs to, as an enforcer names it (`session.history`, session approvals); only an enforcer may name one. */
    session: Type.Optional(Type.Object({ id: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type Action = Static<typeof ActionSchema>;
