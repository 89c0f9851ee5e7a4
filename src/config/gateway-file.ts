import { Type, type Static } from '@sinclair/typebox';
import { PrincipalSchema, ScopePathSchema, WardenError } from '../domain/index.js';
// Deep, not the barrel: the stdio gateway parses its config before anything heavy loads.
import { TENANT_ID_PATTERN } from '../identity/records.js';

const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', maxLength: 64, description: 'a server name of letters, digits, `_` and `-` (no dots: it prefixes tool names)' });
// Days make quotas (`1000` calls a `1d` window) as well as rates.
const Window = Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', description: 'a duration such as `500ms`, `10s`, `1m`, `1d`' });

/**
 * What a gateway serves: the upstreams to aggregate, the agents that may connect, and limits. The one
 * source of these fields: the `spec` of a `kind: Gateway` file, and the `gateway` section of warden.yaml.
 */
export const GATEWAY_SPEC_PROPERTIES = {
        scope: ScopePathSchema,
        /** The tenant the gateway serves: agent tokens of another tenant are refused, and events go to its chain. @default default */
        tenant: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN, description: 'a tenant id such as `acme` (lower-case letters, digits and `-`)' })),
        servers: Type.Array(
          Type.Object(
            {
              name: Name,
              command: Type.Optional(Type.String({ minLength: 1 })),
              args: Type.Optional(Type.Array(Type.String())),
              env: Type.Optional(Type.Record(Type.String(), Type.String())),
              cwd: Type.Optional(Type.String()),
              url: Type.Optional(Type.String({ pattern: '^https?://', description: 'an `http(s)://` URL' })),
              headers: Type.Optional(Type.Record(Type.String(), Type.String())),
            },
            { additionalProperties: false },
          ),
          { minItems: 1 },
        ),
        agents: Type.Optional(
          Type.Array(
            Type.Object(
              {
                id: Type.String({ minLength: 1, maxLength: 256 }),
                /** A static token, imported into the identity store as the agent's `agent` token at start unless the store holds one of the agent already (a seed). */
                token: Type.Optional(Type.String({ minLength: 16, description: 'a bearer token of at least 16 characters' })),
                /** The variable holding the static token (a seed too). */
                tokenEnv: Type.Optional(Type.String({ minLength: 1 })),
                principal: Type.Optional(PrincipalSchema),
                scope: Type.Optional(ScopePathSchema),
                scopes: Type.Optional(Type.Array(ScopePathSchema, { description: 'subscopes X-Warden-Scope may narrow to even where a policy excludes them' })),
              },
              { additionalProperties: false },
            ),
          ),
        ),
        rateLimits: Type.Optional(
          Type.Array(
            Type.Object(
              {
                agents: Type.Optional(Type.Array(Type.String())),
                tools: Type.Optional(Type.Array(Type.String())),
                resources: Type.Optional(Type.Array(Type.String())),
                prompts: Type.Optional(Type.Array(Type.String())),
                limit: Type.Integer({ minimum: 1 }),
                window: Window,
                per: Type.Optional(Type.Union([Type.Literal('agent'), Type.Literal('agent-tool')])),
              },
              { additionalProperties: false },
            ),
          ),
        ),
        redis: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'a `redis://` URL' })),
        /** How long a rate-limited call waits for Redis before it is refused. @default 500ms */
        redisTimeout: Type.Optional(Window),
        /** When each request's decision event must be durable (docs/gateway.md, "Audit modes"). */
        audit: Type.Optional(
          Type.Object(
            {
              /** @default before-forward */
              mode: Type.Optional(Type.Union([Type.Literal('before-forward'), Type.Literal('before-respond')], { description: '`before-forward` or `before-respond`' })),
            },
            { additionalProperties: false },
          ),
        ),
        /** Requests held for approval. */
        approvals: Type.Optional(
          Type.Object(
            {
              /** How long a held request waits for its approval before the agent is told to retry (default 60s). */
              wait: Type.Optional(Window),
            },
            { additionalProperties: false },
          ),
        ),
        /** Streamable HTTP sessions: caps and idle expiry. */
        sessions: Type.Optional(
          Type.Object(
            {
              max: Type.Optional(Type.Integer({ minimum: 1, description: 'most open sessions in all (default 10000)' })),
              maxPerAgent: Type.Optional(Type.Integer({ minimum: 1, description: 'most open sessions one agent may hold (default 50)' })),
              idleTimeout: Type.Optional(Window),
            },
            { additionalProperties: false },
          ),
        ),
} as const;

/** A `kind: Gateway` document: the upstreams to aggregate, the agents that may connect, and limits. */
export const GatewayDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('Gateway'),
    spec: Type.Object(GATEWAY_SPEC_PROPERTIES, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type GatewayDoc = Static<typeof GatewayDocSchema>;
/** The settings of a gateway's file, as one `kind: Gateway` spec holds them. */
export type GatewaySpec = GatewayDoc['spec'];

/** Milliseconds of a `10s`-style duration. */
export function parseWindow(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new WardenError('config.invalid', `\`${text}\` is not a duration`, { help: 'write `500ms`, `10s`, `1m`, `1h` or `1d`' });
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

/** The gateway settings a file gives, each optional (warden.yaml's `gateway` section, or a `kind: Gateway` spec). */
export type GatewayFileSettings = Partial<GatewaySpec>;

/** The upstream specs of a file (the gateway's `UpstreamSpec`s). */
export function upstreamsOf(spec: GatewayFileSettings): Array<GatewaySpec['servers'][number]> {
  return (spec.servers ?? []).map((s) => ({ ...s }));
}

/** The rate-limit rules of a file, windows in milliseconds (the gateway's `RateLimitRule`s). */
export function rateLimitsOf(spec: GatewayFileSettings): Array<{ agents?: string[] | undefined; tools?: string[] | undefined; resources?: string[] | undefined; prompts?: string[] | undefined; limit: number; windowMs: number; per?: 'agent' | 'agent-tool' | undefined }> {
  return (spec.rateLimits ?? []).map((r) => ({ agents: r.agents, tools: r.tools, resources: r.resources, prompts: r.prompts, limit: r.limit, windowMs: parseWindow(r.window), per: r.per }));
}

/** The session limits of a file (Streamable HTTP), durations in milliseconds; what it leaves out keeps the listener's defaults. */
export function sessionLimitsOf(spec: GatewayFileSettings): { maxSessions?: number; maxSessionsPerAgent?: number; idleTimeoutMs?: number } {
  const s = spec.sessions ?? {};
  return {
    ...(s.max !== undefined ? { maxSessions: s.max } : {}),
    ...(s.maxPerAgent !== undefined ? { maxSessionsPerAgent: s.maxPerAgent } : {}),
    ...(s.idleTimeout !== undefined ? { idleTimeoutMs: parseWindow(s.idleTimeout) } : {}),
  };
}
