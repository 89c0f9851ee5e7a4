import type { GraphQLResolveInfo } from 'graphql';
import type { AuditReader } from '../../audit/index.js';
import { WardenError, compileValidator } from '../../domain/index.js';
import type { Credential, GraphqlRead, IdentityService } from '../../identity/index.js';
import type { PolicyRecord, PolicyService, PolicyVersion } from '../../policies/index.js';
import type { RegistryStatus, ServerRecord } from '../../registry/index.js';
import type { Caller } from '../auth.js';
import { RequestInvalid } from '../errors.js';
import { AuditEventsQuery, readAuditEvents } from '../reads/audit-events.js';
import type { RegistryReads } from '../reads/registry.js';

/** What every resolver gets: who asks, from where. */
export interface GraphqlContext {
  credential: Credential;
  caller: Caller;
  /** The operation the request names, for the cost check. */
  operationName?: string | undefined;
}

/** The services GraphQL reads: the ones REST's routes call. */
export interface ResolverDeps {
  audit: AuditReader;
  identity: Pick<IdentityService, 'listTokens'>;
  registry?: RegistryReads | undefined;
  policies?: PolicyService | undefined;
  /** The REST route's gate (src/api/auth.ts `passGate`): returns, or throws `auth.forbidden` after auditing the refusal. */
  gate(route: GraphqlRead, ctx: GraphqlContext, field: string): Promise<void>;
}

/** The active version a `policy(name)` read already fetched, so `active` does not read it twice. */
const ACTIVE = Symbol('active');
type PolicyNode = PolicyRecord & { [ACTIVE]?: PolicyVersion | null };

const checkAuditArgs = compileValidator(AuditEventsQuery);

/** GraphQL gives an explicitly null argument as null; REST has no such thing, so null means absent. */
function present<T extends Record<string, unknown>>(args: T): Partial<T> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

/**
 * The `JSON` scalar's behaviour, which mercurius copies onto the type it built from the SDL (a plain
 * object: a `GraphQLScalarType` made here could come from another copy of graphql than mercurius's).
 */
const JSONScalar = {
  serialize: (v: unknown) => v,
  // Output only: no argument takes JSON, so a client can never hand one in.
  parseValue: () => {
    throw new TypeError('JSON is an output type only');
  },
  parseLiteral: () => {
    throw new TypeError('JSON is an output type only');
  },
};

const fieldOf = (info: GraphQLResolveInfo) => `${info.parentType.name}.${info.fieldName}`;

/** Refuses what REST's input guard and parameter schemas refuse: NUL, unpaired surrogates, over-long names, numbers below 1. */
function checkArgs(field: string, args: Record<string, unknown>, limits: { maxLength?: number; positive?: readonly string[] } = {}): void {
  for (const [name, v] of Object.entries(args)) {
    const why =
      typeof v === 'string'
        ? v.includes('\u0000')
          ? 'must not contain a NUL character (U+0000)'
          : !v.isWellFormed()
            ? 'contains an unpaired UTF-16 surrogate'
            : limits.maxLength !== undefined && v.length > limits.maxLength
              ? `must NOT have more than ${limits.maxLength} characters`
              : undefined
        : typeof v === 'number' && limits.positive?.includes(name) && v < 1
          ? 'must be >= 1'
          : undefined;
    if (why) throw new RequestInvalid(`the arguments of \`${field}\` are invalid: \`/${name}\` ${why}`, [{ path: `/${name}`, message: why }]);
  }
}

/**
 * The resolvers: each passes the gate of the REST route it answers like, then calls what that route
 * calls with the caller's credential, so scoping, body hiding and refusals are REST's own.
 */
export function resolvers(deps: ResolverDeps) {
  const { gate } = deps;
  const policies = () => {
    if (!deps.policies) throw new WardenError('request.not_found', 'this server keeps no managed policies');
    return deps.policies;
  };
  const registry = () => {
    if (!deps.registry) throw new WardenError('request.not_found', 'this server serves no registry');
    return deps.registry;
  };
  return {
    JSON: JSONScalar,
    Query: {
      async policies(_: unknown, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo): Promise<PolicyNode[]> {
        await gate('GET /api/v1/policies', ctx, fieldOf(info));
        return deps.policies ? deps.policies.list(ctx.credential) : [];
      },
      async policy(_: unknown, args: { name: string }, ctx: GraphqlContext, info: GraphQLResolveInfo): Promise<PolicyNode> {
        await gate('GET /api/v1/policies/:name', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args, { maxLength: 128 });
        const got = await policies().get(ctx.credential, args.name);
        return { ...got.policy, [ACTIVE]: got.active ?? null };
      },
      async auditEvents(_: unknown, args: Record<string, unknown>, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/audit/events', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args);
        const checked = checkAuditArgs(present(args));
        if (!checked.ok) throw new RequestInvalid(`the arguments of \`auditEvents\` are invalid: ${checked.issues.map((i) => `\`${i.path}\` ${i.message}`).join('; ')}`, checked.issues);
        return readAuditEvents(deps.audit, ctx.credential, checked.value);
      },
      async servers(_: unknown, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/registry/servers', ctx, fieldOf(info));
        return registry().servers(ctx.credential);
      },
      async server(_: unknown, args: { name: string }, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/registry/servers/:server', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args, { maxLength: 256 });
        return registry().server(ctx.credential, args.name);
      },
      async tools(_: unknown, args: { server?: string | null; status?: string | null }, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/registry/tools', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args, { maxLength: 256 });
        if (args.status != null && !['pending', 'approved', 'blocked'].includes(args.status)) {
          throw new RequestInvalid('the arguments of `tools` are invalid: `/status` must be one of `pending`, `approved`, `blocked`', [{ path: '/status', message: 'must be one of `pending`, `approved`, `blocked`' }]);
        }
        return registry().tools(ctx.credential, { server: args.server ?? undefined, status: (args.status ?? undefined) as RegistryStatus | undefined });
      },
      async tool(_: unknown, args: { server: string; name: string }, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/registry/tools/:server/:tool', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args, { maxLength: 256 });
        return registry().tool(ctx.credential, args.server, args.name);
      },
      async agents(_: unknown, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/registry/agents', ctx, fieldOf(info));
        return registry().agents(ctx.credential);
      },
      async tokens(_: unknown, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/tokens', ctx, fieldOf(info));
        return deps.identity.listTokens(ctx.credential);
      },
    },
    Policy: {
      async active(p: PolicyNode, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        if (p[ACTIVE] !== undefined) return p[ACTIVE];
        await gate('GET /api/v1/policies/:name', ctx, fieldOf(info));
        return (await policies().get(ctx.credential, p.name)).active ?? null;
      },
      async versions(p: PolicyNode, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/policies/:name/versions', ctx, fieldOf(info));
        return policies().versions(ctx.credential, p.name);
      },
      async version(p: PolicyNode, args: { number: number }, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/policies/:name/versions/:n', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args, { positive: ['number'] });
        return policies().version(ctx.credential, p.name, args.number);
      },
      async diff(p: PolicyNode, args: { from: number; to: number }, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/policies/:name/diff', ctx, fieldOf(info));
        checkArgs(fieldOf(info), args, { positive: ['from', 'to'] });
        return policies().diff(ctx.credential, p.name, args.from, args.to);
      },
    },
    Server: {
      async tools(s: ServerRecord, _args: unknown, ctx: GraphqlContext, info: GraphQLResolveInfo) {
        await gate('GET /api/v1/registry/tools', ctx, fieldOf(info));
        return registry().tools(ctx.credential, { server: s.name });
      },
    },
  };
}
