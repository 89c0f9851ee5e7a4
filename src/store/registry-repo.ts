import { sql, type Kysely, type Selectable } from 'kysely';
import type { AgentRecord, RegistryRepo, RegistryStatus, ServerRecord, ToolRecord } from '../registry/index.js';
import type { RegistryAgentsTable, RegistryServersTable, RegistryToolsTable, Schema } from './schema.js';

type Status = RegistryStatus;
type Risk = NonNullable<ToolRecord['risk']>;

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
// jsonb parameters go in as text and are cast, so both drivers store the same value.
const json = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`;

/**
 * Servers, tools and agents of the registry, one row each, upserted whole.
 * @example
 * const registry = createRegistry({ repo: createRegistryRepo(database.db), audit, clock });
 */
export function createRegistryRepo(db: Kysely<Schema>, tenantId = 'default'): RegistryRepo {
  const TENANT = tenantId;
  const toServer = (r: Selectable<RegistryServersTable>): ServerRecord => ({
    name: r.name,
    scope: r.scope,
    owner: opt(r.owner),
    status: r.status as Status,
    statusReason: opt(r.status_reason),
    info: r.info as Record<string, unknown>,
    firstSeen: iso(r.first_seen),
    lastSeen: iso(r.last_seen),
  });
  const toTool = (r: Selectable<RegistryToolsTable>): ToolRecord => ({
    server: r.server,
    name: r.name,
    owner: opt(r.owner),
    risk: opt(r.risk) as Risk | undefined,
    capabilities: r.capabilities as string[],
    classification: opt(r.classification),
    annotations: r.annotations as Record<string, unknown>,
    description: opt(r.description),
    inputSchema: r.input_schema as Record<string, unknown>,
    status: r.status as Status,
    statusReason: opt(r.status_reason),
    pinnedHash: r.pinned_hash,
    observedHash: r.observed_hash,
    firstSeen: iso(r.first_seen),
    lastSeen: iso(r.last_seen),
  });
  const toAgent = (r: Selectable<RegistryAgentsTable>): AgentRecord => ({
    id: r.id,
    kind: opt(r.kind),
    owner: opt(r.owner),
    status: r.status as AgentRecord['status'],
    updatedAt: iso(r.updated_at),
  });

  return {
    forTenant: (other) => createRegistryRepo(db, other),
    async getServer(name) {
      const row = await db.selectFrom('registry_servers').selectAll().where('tenant_id', '=', TENANT).where('name', '=', name).executeTakeFirst();
      return row ? toServer(row) : undefined;
    },
    async listServers() {
      const rows = await db.selectFrom('registry_servers').selectAll().where('tenant_id', '=', TENANT).orderBy('name').execute();
      return rows.map(toServer);
    },
    async putServer(s, opts = {}) {
      const r = await sql`
        INSERT INTO registry_servers (tenant_id, name, scope, owner, status, status_reason, info, first_seen, last_seen, updated_at)
        VALUES (${TENANT}, ${s.name}, ${s.scope}, ${s.owner ?? null}, ${s.status}, ${s.statusReason ?? null}, ${json(s.info)},
                ${s.firstSeen}::timestamptz, ${s.lastSeen}::timestamptz, now())
        ON CONFLICT (tenant_id, name) ${
          opts.ifAbsent
            ? sql`DO NOTHING`
            : sql`DO UPDATE SET
          scope = excluded.scope, owner = excluded.owner, status = excluded.status, status_reason = excluded.status_reason,
          info = excluded.info, first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = now()
          ${opts.unchangedFrom ? sql`WHERE registry_servers.status = ${opts.unchangedFrom.status}` : sql``}`
        }
        RETURNING 1 AS written
      `.execute(db);
      return r.rows.length > 0;
    },
    async getTool(server, name) {
      const row = await db
        .selectFrom('registry_tools')
        .selectAll()
        .where('tenant_id', '=', TENANT)
        .where('server', '=', server)
        .where('name', '=', name)
        .executeTakeFirst();
      return row ? toTool(row) : undefined;
    },
    async listTools(filter = {}) {
      let q = db.selectFrom('registry_tools').selectAll().where('tenant_id', '=', TENANT);
      if (filter.server !== undefined) q = q.where('server', '=', filter.server);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      const rows = await q.orderBy('server').orderBy('name').execute();
      return rows.map(toTool);
    },
    async putTool(t, opts = {}) {
      const r = await sql`
        INSERT INTO registry_tools (tenant_id, server, name, owner, risk, capabilities, classification, annotations, description,
                                    input_schema, status, status_reason, pinned_hash, observed_hash, first_seen, last_seen, updated_at)
        VALUES (${TENANT}, ${t.server}, ${t.name}, ${t.owner ?? null}, ${t.risk ?? null}, ${json(t.capabilities)}, ${t.classification ?? null},
                ${json(t.annotations)}, ${t.description ?? null}, ${json(t.inputSchema)}, ${t.status}, ${t.statusReason ?? null},
                ${t.pinnedHash}, ${t.observedHash}, ${t.firstSeen}::timestamptz, ${t.lastSeen}::timestamptz, now())
        ON CONFLICT (tenant_id, server, name) ${
          opts.ifAbsent
            ? sql`DO NOTHING`
            : sql`DO UPDATE SET
          owner = excluded.owner, risk = excluded.risk, capabilities = excluded.capabilities, classification = excluded.classification,
          annotations = excluded.annotations, description = excluded.description, input_schema = excluded.input_schema,
          status = excluded.status, status_reason = excluded.status_reason, pinned_hash = excluded.pinned_hash,
          observed_hash = excluded.observed_hash, first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = now()
          ${
            opts.unchangedFrom
              ? sql`WHERE registry_tools.status = ${opts.unchangedFrom.status} AND registry_tools.pinned_hash = ${opts.unchangedFrom.pinnedHash ?? ''} AND registry_tools.observed_hash = ${opts.unchangedFrom.observedHash ?? ''}`
              : sql``
          }`
        }
        RETURNING 1 AS written
      `.execute(db);
      return r.rows.length > 0;
    },
    async getAgent(id) {
      const row = await db.selectFrom('registry_agents').selectAll().where('tenant_id', '=', TENANT).where('id', '=', id).executeTakeFirst();
      return row ? toAgent(row) : undefined;
    },
    async listAgents() {
      const rows = await db.selectFrom('registry_agents').selectAll().where('tenant_id', '=', TENANT).orderBy('id').execute();
      return rows.map(toAgent);
    },
    async putAgent(a, opts = {}) {
      const r = await sql`
        INSERT INTO registry_agents (tenant_id, id, kind, owner, status, updated_at)
        VALUES (${TENANT}, ${a.id}, ${a.kind ?? null}, ${a.owner ?? null}, ${a.status}, ${a.updatedAt}::timestamptz)
        ON CONFLICT (tenant_id, id) ${
          opts.ifAbsent ? sql`DO NOTHING` : sql`DO UPDATE SET kind = excluded.kind, owner = excluded.owner, status = excluded.status, updated_at = excluded.updated_at`
        }
        RETURNING 1 AS written
      `.execute(db);
      return r.rows.length > 0;
    },
  };
}
