import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';
import mercurius from 'mercurius';
import type { AuditReader } from '../../audit/index.js';
import { WardenError, isWardenError, type AuditSink, type Clock, type ErrorCode, type ValidationIssue } from '../../domain/index.js';
import type { IdentityService } from '../../identity/index.js';
import type { PolicyService } from '../../policies/index.js';
import { PolicyInvalid } from '../../policies/service.js';
import type { Registry } from '../../registry/index.js';
import { credentialOf, passGate } from '../auth.js';
import { RequestInvalid } from '../errors.js';
import { registryReads } from '../reads/registry.js';
import { AUDIT_PAGE } from '../reads/audit-events.js';
import { queryCost, type CostModel } from './cost.js';
import { resolvers, type GraphqlContext } from './resolvers.js';
import { SCHEMA } from './schema.js';

/** What `/api/graphql` answers at most; docs/graphql.md prints these. */
export const GRAPHQL_LIMITS = {
  /** Longest query text, characters. */
  queryLength: 16 * 1024,
  /** Most lexical tokens a query may hold: parsing stops there. */
  tokens: 4000,
  /** Deepest selection nesting (mercurius `queryDepth`): graphql-js's standard introspection query nests 15 deep; data queries at most 5 (the schema has no cycles). */
  depth: 15,
  /** Highest estimated cost (see {@link COST_MODEL}). */
  cost: 50_000,
} as const;

/**
 * How the cost is estimated: an audit page counts its `limit` (REST's default 100 when none is
 * given), any other list 20, an introspection list 5 (graphql-js's standard introspection query then
 * costs about 8,500; a full page of 1,000 audit events with every field about 25,000).
 */
export const COST_MODEL: CostModel = {
  listSize: 20,
  introspectionListSize: 5,
  sizedBy: { 'Query.auditEvents': { arg: 'limit', default: AUDIT_PAGE.default } },
  counted: ['AuditEventPage.events'],
};

const GraphqlBody = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: GRAPHQL_LIMITS.queryLength, description: 'the GraphQL document' }),
    variables: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
    operationName: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    extensions: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'accepted for clients that send it; ignored' })),
  },
  { additionalProperties: false },
);

const GraphqlError = Type.Object({
  message: Type.String(),
  locations: Type.Optional(Type.Array(Type.Object({ line: Type.Integer(), column: Type.Integer() }))),
  path: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Integer()]))),
  extensions: Type.Object({
    code: Type.String({ description: 'a stable code from docs/errors.md, as REST gives it: `auth.forbidden`, `policy.not_found`, `request.query_too_complex`…' }),
    help: Type.Optional(Type.String()),
    issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  }),
});
const GraphqlAnswer = Type.Object({
  data: Type.Optional(Type.Unknown({ description: 'what the query asked for; a field that failed is null' })),
  errors: Type.Optional(Type.Array(GraphqlError)),
});
type GraphqlAnswer = Static<typeof GraphqlAnswer>;
type WireGraphqlError = Static<typeof GraphqlError>;

export interface GraphqlDeps {
  audit: AuditReader;
  /** Where refusals by a field's gate are recorded, as the route gate records them. */
  events: Pick<AuditSink, 'append'>;
  clock: Clock;
  identity: Pick<IdentityService, 'listTokens'>;
  registry?: Pick<Registry, 'forTenant'> | undefined;
  policies?: PolicyService | undefined;
}

function wireError(code: ErrorCode, message: string, from?: { locations?: readonly { line: number; column: number }[] | undefined; path?: readonly (string | number)[] | undefined }, extra: { help?: string | undefined; issues?: ValidationIssue[] | undefined } = {}): WireGraphqlError {
  return {
    message,
    ...(from?.locations ? { locations: from.locations.map((l) => ({ line: l.line, column: l.column })) } : {}),
    ...(from?.path ? { path: [...from.path] } : {}),
    extensions: { code, ...(extra.help ? { help: extra.help } : {}), ...(extra.issues ? { issues: extra.issues } : {}) },
  };
}

/** An error a resolver threw, with the code REST would answer it with; anything uncoded leaks nothing. */
function executionError(e: GraphQLError, log: FastifyBaseLogger): WireGraphqlError {
  const cause = e.originalError;
  if (isWardenError(cause)) {
    if (cause.code === 'internal') log.error({ err: cause }, 'graphql field failed');
    const issues = cause instanceof RequestInvalid || cause instanceof PolicyInvalid ? cause.issues : undefined;
    return wireError(cause.code, cause.message, e, { help: cause.help, issues });
  }
  // No field failed: the document names no operation it can run (several and no name, an unknown name).
  if (!cause && !e.path) return wireError('request.invalid', e.message, e);
  log.error({ err: cause ?? e }, 'graphql field failed');
  return wireError('internal', 'an internal error occurred; the server log has the details', e);
}

/**
 * A validation rule: the schema holds reads only, and graphql 16 leaves a mutation or subscription
 * against a schema without one to execution; this refuses it with the other validation errors.
 */
function onlyQueries(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (node.operation !== 'query') context.reportError(new GraphQLError(`this API answers queries only, not a ${node.operation}`, { nodes: node }));
    },
  };
}

/** Errors that refuse the whole request before it runs: syntax, validation, depth (mercurius), cost. */
function refusalErrors(err: unknown): WireGraphqlError[] | undefined {
  if (isWardenError(err) && err.code === 'request.query_too_complex') return [wireError(err.code, err.message, undefined, { help: err.help })];
  const e = err as { code?: unknown; errors?: unknown };
  if (e.code !== 'MER_ERR_GQL_VALIDATION' || !Array.isArray(e.errors)) return undefined;
  return (e.errors as (Error & { code?: string; locations?: { line: number; column: number }[] })[]).map((x) =>
    x.code === 'MER_ERR_GQL_QUERY_DEPTH'
      ? wireError('request.query_too_complex', `the query nests deeper than ${GRAPHQL_LIMITS.depth} levels`, undefined, { help: 'ask for fewer levels at once, or split the query' })
      : /Document contains more th\w* \d+ tokens/.test(x.message)
        ? wireError('request.query_too_complex', `the query holds more than ${GRAPHQL_LIMITS.tokens} tokens`, undefined, { help: 'split the query' })
        : wireError('request.invalid', x.message, x),
  );
}

/**
 * `POST /api/graphql`: the reads of the REST API as one GraphQL schema, on mercurius (its own routes
 * off: this route takes the API's authentication, body parsing and error shape). Each field passes
 * the gate of the REST route it answers like and calls what that route calls. A query nesting too
 * deep or estimated too costly is refused whole, with `request.query_too_complex`, before anything runs.
 */
export function graphqlRoutes(app: FastifyInstance, deps: GraphqlDeps): void {
  void app.register(mercurius, {
    schema: SCHEMA,
    resolvers: resolvers({
      audit: deps.audit,
      identity: deps.identity,
      registry: deps.registry ? registryReads(deps.registry) : undefined,
      policies: deps.policies,
      gate: (route, ctx, field) => {
        const [method, url] = route.split(' ') as [string, string];
        return passGate({ audit: deps.events, clock: deps.clock }, ctx.credential, method, url, { ...ctx.caller, graphqlField: field });
      },
    }) as unknown as mercurius.IResolvers,
    routes: false,
    graphiql: false,
    queryDepth: GRAPHQL_LIMITS.depth,
    validationRules: [onlyQueries],
    graphql: { parseOptions: { maxTokens: GRAPHQL_LIMITS.tokens } },
    // Errors are shaped by the route below, which needs each one's original (coded) error.
    errorFormatter: (execution) => ({ statusCode: 200, response: execution }),
  });
  app.after((err) => {
    if (err) throw err;
    app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
      const operationName = (context as unknown as GraphqlContext).operationName;
      const cost = queryCost(schema, document, variables, operationName, COST_MODEL);
      if (cost > GRAPHQL_LIMITS.cost) {
        throw new WardenError('request.query_too_complex', `the query's estimated cost is ${cost}, above the ${GRAPHQL_LIMITS.cost} this API answers`, {
          help: 'ask for fewer fields or a smaller `limit`, or split the query (docs/graphql.md explains the estimate)',
        });
      }
    });
  });

  app.post<{ Body: Static<typeof GraphqlBody> }>(
    '/api/graphql',
    {
      schema: {
        summary: 'GraphQL over the REST reads (policies, audit events, registry, tokens), with their authorization; a query refused before it runs (invalid, too deep, too costly) is a 400 with GraphQL `errors`; docs/graphql.md has the schema',
        body: GraphqlBody,
        response: { 200: GraphqlAnswer },
      },
    },
    async (req, reply): Promise<GraphqlAnswer> => {
      const body = req.body;
      const context: GraphqlContext = {
        credential: credentialOf(req),
        caller: { ip: req.ip, userAgent: req.headers['user-agent'] },
        operationName: body.operationName ?? undefined,
      };
      try {
        const result = await app.graphql(body.query, context as unknown as mercurius.MercuriusContext, body.variables ?? undefined, body.operationName ?? undefined);
        const errors = result.errors?.map((e) => executionError(e, req.log));
        // Nothing ran (no operation could be chosen): a refusal of the request, like a validation error.
        if (result.data == null && errors?.length && errors.every((e) => e.path === undefined)) {
          void reply.status(400);
          return { errors };
        }
        return { data: result.data ?? null, ...(errors?.length ? { errors } : {}) };
      } catch (err) {
        const errors = refusalErrors(err);
        if (!errors) throw err;
        void reply.status(400);
        return { errors };
      }
    },
  );
}
