import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NO_NUL_PATTERN, ScopePathSchema, WardenError } from '../../domain/index.js';
import { GrantSchema, RoleSchema, ScopeNodeSchema, TenantSchema, TokenInfoSchema, type IdentityService } from '../../identity/index.js';
import { credentialOf } from '../auth.js';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: NO_NUL_PATTERN });
const TokenId = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) });

const NewTokenBody = Type.Object(
  {
    name: Name,
    role: RoleSchema,
    scope: Type.Optional(ScopePathSchema),
    agentId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN })),
    principal: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL_PATTERN })),
    expiresInSec: Type.Optional(Type.Integer({ minimum: 60, maximum: 10 * 365 * 86_400, description: 'lifetime in seconds; none: no expiry' })),
  },
  { additionalProperties: false },
);

const Created = Type.Object({ token: Type.String({ description: 'the secret, shown this once' }), info: TokenInfoSchema }, { additionalProperties: false });

const ScopeBody = Type.Object(
  {
    owner: Type.Optional(Type.Union([Type.String({ maxLength: 256, pattern: NO_NUL_PATTERN }), Type.Null()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2048, pattern: NO_NUL_PATTERN }), Type.Null()])),
  },
  { additionalProperties: false },
);

const Whoami = Type.Object(
  {
    tenantId: Type.String(),
    method: Type.String(),
    id: Type.String(),
    name: Type.String(),
    grants: Type.Array(GrantSchema),
    principal: Type.Union([Type.String(), Type.Null()]),
    agentId: Type.Union([Type.String(), Type.Null()]),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

/** Who am I, my tenant, its scope tree, and the tenant's tokens. */
export function identityRoutes(app: FastifyInstance, deps: { identity: IdentityService; now: () => Date }): void {
  app.get('/api/v1/whoami', { schema: { response: { 200: Whoami } } }, async (req) => {
    const c = credentialOf(req);
    return { tenantId: c.tenantId, method: c.method, id: c.id, name: c.name, grants: [...c.grants], principal: c.principal ?? null, agentId: c.agentId ?? null, expiresAt: c.expiresAt ?? null };
  });

  app.get('/api/v1/tenant', { schema: { response: { 200: TenantSchema } } }, async (req) => {
    const c = credentialOf(req);
    const t = await deps.identity.getTenant(c.tenantId);
    if (!t) throw new WardenError('identity.tenant_not_found', `no tenant \`${c.tenantId}\``);
    return t;
  });

  app.get('/api/v1/scopes', { schema: { response: { 200: Type.Object({ scopes: Type.Array(ScopeNodeSchema) }) } } }, async (req) => ({ scopes: await deps.identity.listScopes(credentialOf(req).tenantId) }));

  app.put<{ Params: { '*': string }; Body: Static<typeof ScopeBody> }>(
    '/api/v1/scopes/*',
    { schema: { params: Type.Object({ '*': ScopePathSchema }), body: ScopeBody, response: { 200: ScopeNodeSchema } } },
    async (req) => deps.identity.putScope(credentialOf(req), { path: req.params['*'], owner: req.body.owner, description: req.body.description }),
  );

  app.get('/api/v1/tokens', { schema: { response: { 200: Type.Object({ tokens: Type.Array(TokenInfoSchema) }) } } }, async (req) => ({ tokens: await deps.identity.listTokens(credentialOf(req)) }));

  app.post<{ Body: Static<typeof NewTokenBody> }>('/api/v1/tokens', { schema: { body: NewTokenBody, response: { 201: Created } } }, async (req, reply) => {
    const b = req.body;
    const created = await deps.identity.createToken(credentialOf(req), {
      name: b.name,
      role: b.role,
      scope: b.scope,
      agentId: b.agentId,
      principal: b.principal,
      expiresAt: b.expiresInSec !== undefined ? new Date(deps.now().getTime() + b.expiresInSec * 1000).toISOString() : undefined,
    });
    return reply.status(201).send(created);
  });

  app.delete<{ Params: Static<typeof TokenId> }>('/api/v1/tokens/:id', { schema: { params: TokenId, response: { 200: TokenInfoSchema } } }, async (req) => deps.identity.revokeToken(credentialOf(req), req.params.id));

  app.post<{ Params: Static<typeof TokenId> }>('/api/v1/tokens/:id/rotate', { schema: { params: TokenId, response: { 201: Created } } }, async (req, reply) =>
    reply.status(201).send(await deps.identity.rotateToken(credentialOf(req), req.params.id)),
  );
}
