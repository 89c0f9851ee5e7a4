import { sql, type Kysely } from 'kysely';
import type { IdentityStore, ScopeNode, Tenant, TokenInfo, TokenRow } from '../identity/records.js';
import type { Role } from '../identity/roles.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

type TokenSqlRow = {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  hash: string;
  role: string;
  scope: string | null;
  agent_id: string | null;
  principal: string | null;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
};

const iso = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`);
const TOKEN_COLUMNS = sql.join([
  sql.raw('id, tenant_id, name, prefix, hash, role, scope, agent_id, principal, created_by'),
  iso('created_at'),
  iso('expires_at'),
  iso('revoked_at'),
  iso('last_used_at'),
]);

function tokenOf(r: TokenSqlRow): TokenRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    prefix: r.prefix,
    hash: r.hash,
    role: r.role as Role,
    scope: r.scope,
    agentId: r.agent_id,
    principal: r.principal,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

/** Tenants, scope trees and API tokens in the database. Reads for a caller run under its tenant (RLS). */
export function createIdentityRepo(db: Kysely<Schema>): IdentityStore & { countTokens(): Promise<number> } {
  return {
    async createTenant(t) {
      const { rows } = await sql`INSERT INTO tenants (id, name, status, created_at) VALUES (${t.id}, ${t.name}, 'active', ${t.createdAt}::timestamptz)
                                 ON CONFLICT (id) DO NOTHING RETURNING id`.execute(db);
      return rows.length === 1;
    },
    async getTenant(id) {
      const { rows } = await sql<{ id: string; name: string; status: Tenant['status']; created_at: string }>`
        SELECT id, name, status, ${iso('created_at')} FROM tenants WHERE id = ${id}`.execute(db);
      const r = rows[0];
      return r ? { id: r.id, name: r.name, status: r.status, createdAt: r.created_at } : undefined;
    },
    async setTenantStatus(id, status) {
      const { rows } = await sql`UPDATE tenants SET status = ${status} WHERE id = ${id} RETURNING id`.execute(db);
      return rows.length === 1;
    },
    async listTenants() {
      const { rows } = await sql<{ id: string; name: string; status: Tenant['status']; created_at: string }>`
        SELECT id, name, status, ${iso('created_at')} FROM tenants ORDER BY id`.execute(db);
      return rows.map((r) => ({ id: r.id, name: r.name, status: r.status, createdAt: r.created_at }));
    },
    async putScope(tenantId, n) {
      await withTenant(db, tenantId, (trx) =>
        sql`INSERT INTO scopes (tenant_id, path, kind, owner, description, updated_at)
            VALUES (${tenantId}, ${n.path}, ${n.kind}, ${n.owner}, ${n.description}, ${n.updatedAt}::timestamptz)
            ON CONFLICT (tenant_id, path) DO UPDATE SET owner = EXCLUDED.owner, description = EXCLUDED.description, updated_at = EXCLUDED.updated_at`.execute(trx),
      );
    },
    async listScopes(tenantId) {
      const { rows } = await withTenant(db, tenantId, (trx) =>
        sql<{ path: string; kind: ScopeNode['kind']; owner: string | null; description: string | null; updated_at: string }>`
          SELECT path, kind, owner, description, ${iso('updated_at')} FROM scopes WHERE tenant_id = ${tenantId} ORDER BY path`.execute(trx),
      );
      return rows.map((r) => ({ path: r.path, kind: r.kind, owner: r.owner, description: r.description, updatedAt: r.updated_at }));
    },
    async insertToken(t) {
      const { rows } = await withTenant(db, t.tenantId, (trx) =>
        sql`INSERT INTO api_tokens (id, tenant_id, name, prefix, hash, role, scope, agent_id, principal, created_at, created_by, expires_at)
            VALUES (${t.id}, ${t.tenantId}, ${t.name}, ${t.prefix}, ${t.hash}, ${t.role}, ${t.scope}, ${t.agentId}, ${t.principal},
                    ${t.createdAt}::timestamptz, ${t.createdBy}, ${t.expiresAt}::timestamptz)
            ON CONFLICT DO NOTHING RETURNING id`.execute(trx),
      );
      return rows.length === 1;
    },
    async findToken(id) {
      // Authentication: the tenant is what this lookup finds out, so it cannot run under one.
      const { rows } = await sql<TokenSqlRow>`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ${id}`.execute(db);
      return rows[0] ? tokenOf(rows[0]) : undefined;
    },
    async findTokenByHash(hash) {
      // Authentication too (api_tokens_hash_idx): no tenant yet.
      const { rows } = await sql<TokenSqlRow>`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ${hash}`.execute(db);
      return rows[0] ? tokenOf(rows[0]) : undefined;
    },
    async listTokens(tenantId) {
      const { rows } = await withTenant(db, tenantId, (trx) => sql<TokenSqlRow>`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = ${tenantId} ORDER BY created_at, id`.execute(trx));
      return rows.map((r): TokenInfo => {
        const { hash: _hash, ...info } = tokenOf(r);
        return info;
      });
    },
    async revokeToken(tenantId, id, at) {
      const { rows } = await withTenant(db, tenantId, (trx) =>
        sql`UPDATE api_tokens SET revoked_at = ${at}::timestamptz WHERE tenant_id = ${tenantId} AND id = ${id} AND revoked_at IS NULL RETURNING id`.execute(trx),
      );
      return rows.length === 1;
    },
    async invalidTokens(ids, now) {
      const { rows } = await sql<{ id: string }>`
        SELECT i.id FROM unnest(${[...ids]}::text[]) AS i(id)
        LEFT JOIN api_tokens t ON t.id = i.id
        LEFT JOIN tenants n ON n.id = t.tenant_id
        WHERE t.id IS NULL OR t.revoked_at IS NOT NULL OR (t.expires_at IS NOT NULL AND t.expires_at <= ${now}::timestamptz)
           OR n.id IS NULL OR n.status <> 'active'`.execute(db);
      return rows.map((r) => r.id);
    },
    async touchToken(id, at) {
      await sql`UPDATE api_tokens SET last_used_at = ${at}::timestamptz WHERE id = ${id}`.execute(db);
    },
    async deleteToken(id) {
      await sql`DELETE FROM api_tokens WHERE id = ${id}`.execute(db);
    },
    async countTokens() {
      const { rows } = await sql<{ n: string | number }>`SELECT count(*) AS n FROM api_tokens`.execute(db);
      return Number(rows[0]!.n);
    },
  };
}
