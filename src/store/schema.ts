import type { ColumnType, Generated } from 'kysely';

/**
 * One row of `audit_events`. `body` holds the event as the canonical text its hash is over (every
 * member but `integrity.hash`, which is `hash`); rows written before migration 009 hold it as
 * jsonb in `event` instead. The other columns are copies of its fields, kept so filters and
 * ordering use indexes.
 */
export interface AuditEventsTable {
  tenant_id: Generated<string>;
  chain_seq: string;
  id: string;
  // Written as the event's ISO string, read back as a Date by both drivers.
  time: ColumnType<Date, string, never>;
  logged_at: ColumnType<Date, string, never>;
  category: string;
  type: string;
  scope: string;
  outcome: string;
  action_kind: string | null;
  agent_id: string | null;
  principal_id: string | null;
  server: string | null;
  tool: string | null;
  effect: string | null;
  prev_hash: string;
  hash: string;
  body: string | null;
  event: ColumnType<unknown, string, never> | null;
}

/** One applied migration, by name. */
export interface WardenMigrationsTable {
  name: string;
  applied_at: Generated<Date>;
}

/** One row of `registry_servers` (see src/registry for the fields' meaning). */
export interface RegistryServersTable {
  tenant_id: Generated<string>;
  name: string;
  scope: string;
  owner: string | null;
  status: string;
  status_reason: string | null;
  info: ColumnType<unknown, string, string>;
  first_seen: ColumnType<Date, string, string>;
  last_seen: ColumnType<Date, string, string>;
  updated_at: Generated<Date>;
}

/** One row of `registry_tools`: a tool, its pinned definition hash and the one last observed. */
export interface RegistryToolsTable {
  tenant_id: Generated<string>;
  server: string;
  name: string;
  owner: string | null;
  risk: string | null;
  capabilities: ColumnType<unknown, string, string>;
  classification: string | null;
  annotations: ColumnType<unknown, string, string>;
  description: string | null;
  input_schema: ColumnType<unknown, string, string>;
  status: string;
  status_reason: string | null;
  pinned_hash: string;
  observed_hash: string;
  first_seen: ColumnType<Date, string, string>;
  last_seen: ColumnType<Date, string, string>;
  updated_at: Generated<Date>;
}

/** One row of `registry_agents`. */
export interface RegistryAgentsTable {
  tenant_id: Generated<string>;
  id: string;
  kind: string | null;
  owner: string | null;
  status: string;
  updated_at: ColumnType<Date, string, string>;
}

/** Every table the store owns, as Kysely sees them. */
export interface Schema {
  audit_events: AuditEventsTable;
  warden_migrations: WardenMigrationsTable;
  registry_servers: RegistryServersTable;
  registry_tools: RegistryToolsTable;
  registry_agents: RegistryAgentsTable;
}
