import type { ColumnType, Generated } from 'kysely';

/**
 * One row of `audit_events`. The columns beside `event` are copies of its fields, kept so filters
 * and ordering use indexes; `event` holds the event exactly as appended.
 */
export interface AuditEventsTable {
  seq: Generated<string>;
  tenant_id: Generated<string>;
  id: string;
  // Written as the event's ISO string, read back as a Date by both drivers.
  time: ColumnType<Date, string, never>;
  category: string;
  type: string;
  scope: string;
  action_kind: string | null;
  agent_id: string | null;
  principal_id: string | null;
  server: string | null;
  tool: string | null;
  effect: string | null;
  event: ColumnType<unknown, string, never>;
}

/** One applied migration, by name. */
export interface WardenMigrationsTable {
  name: string;
  applied_at: Generated<Date>;
}

/** Every table the store owns, as Kysely sees them. */
export interface Schema {
  audit_events: AuditEventsTable;
  warden_migrations: WardenMigrationsTable;
}
