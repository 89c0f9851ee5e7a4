import { Type, type Static } from '@sinclair/typebox';
import { RoleSchema, type Role } from './roles.js';

/** A tenant: an organization, the root of its scope tree and the owner of its rows. */
export const TenantSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type Tenant = Static<typeof TenantSchema>;

/** A tenant id: lower-case letters, digits and `-`, as it appears in rows, tokens and URLs. */
export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

/** A node of a tenant's scope tree (org > groups > subgroups > projects) and its metadata. */
export const ScopeNodeSchema = Type.Object(
  {
    path: Type.String(),
    kind: Type.Union([Type.Literal('org'), Type.Literal('group'), Type.Literal('subgroup'), Type.Literal('project')]),
    owner: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type ScopeNode = Static<typeof ScopeNodeSchema>;

/** What lists show of a token: never its secret or hash. */
export const TokenInfoSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: '`wdn_<id>`: recognisable, not secret' }),
    role: RoleSchema,
    scope: Type.Union([Type.String(), Type.Null()], { description: 'null: the whole tenant' }),
    agentId: Type.Union([Type.String(), Type.Null()], { description: 'for an `agent` token, the agent it acts as' }),
    principal: Type.Union([Type.String(), Type.Null()], { description: 'the person or service the token is' }),
    createdAt: Type.String({ format: 'date-time' }),
    createdBy: Type.String(),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type TokenInfo = Static<typeof TokenInfoSchema>;

/** A stored token: what lists show plus the hash the presented secret is checked against. */
export interface TokenRow extends TokenInfo {
  hash: string;
}

/** What creating a token needs. */
export interface NewToken {
  tenantId: string;
  name: string;
  role: Role;
  scope?: string | undefined;
  agentId?: string | undefined;
  principal?: string | undefined;
  /** ISO time, or none for a token that does not expire. */
  expiresAt?: string | undefined;
}

/** Where tokens, tenants and scopes are kept (src/store implements it). */
export interface IdentityStore {
  createTenant(t: { id: string; name: string; createdAt: string }): Promise<boolean>;
  getTenant(id: string): Promise<Tenant | undefined>;
  /** Sets a tenant's status; false when there is no such tenant. */
  setTenantStatus(id: string, status: Tenant['status']): Promise<boolean>;
  listTenants(): Promise<Tenant[]>;
  putScope(tenantId: string, node: { path: string; kind: ScopeNode['kind']; owner: string | null; description: string | null; updatedAt: string }): Promise<void>;
  listScopes(tenantId: string): Promise<ScopeNode[]>;
  /** Inserts a token; false when its id (or its hash) is taken (nothing is written). */
  insertToken(row: TokenRow): Promise<boolean>;
  /** A token by id, of any tenant (authentication does not know the tenant yet). */
  findToken(id: string): Promise<TokenRow | undefined>;
  /** A token by the hash of its text, of any tenant: how a token imported from a file, which carries no id, is found. */
  findTokenByHash(hash: string): Promise<TokenRow | undefined>;
  listTokens(tenantId: string): Promise<TokenInfo[]>;
  /** Marks a token revoked; false when it was not found in the tenant or was already revoked. */
  revokeToken(tenantId: string, id: string, at: string): Promise<boolean>;
  /** Ids of the given tokens that are revoked, expired at `now`, gone, or of a tenant that is not active. */
  invalidTokens(ids: readonly string[], now: string): Promise<string[]>;
  touchToken(id: string, at: string): Promise<void>;
  /** Deletes a token row outright: only a bootstrap token whose secret never reached anyone. */
  deleteToken(id: string): Promise<void>;
}
