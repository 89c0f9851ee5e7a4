// The public surface of the store. Any export added here becomes public API: named exports only.
export { openDatabase } from './db.js';
export type { Database, OpenDatabaseOptions } from './db.js';
export { migrate } from './migrate.js';
export type { MigrateResult } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';
export type { Migration } from './migrations/index.js';
export { createAuditRepo, AUDIT_PAGE_MAX } from './audit-repo.js';
export type { AuditRepo } from './audit-repo.js';
export { createDeliveryRepo } from './delivery-repo.js';
export { createRetentionRepo } from './retention-repo.js';
export type { Schema, AuditEventsTable, WardenMigrationsTable } from './schema.js';
export { createRegistryRepo } from './registry-repo.js';

export type { RegistryAgentsTable, RegistryServersTable, RegistryToolsTable } from './schema.js';
export { createIdentityRepo } from './identity-repo.js';
export { withTenant } from './tenant-scope.js';
export { createPolicyRepo, POLICY_CHANNEL } from './policy-repo.js';
export { createPgReleaseFeed } from './policy-feed.js';
export { createApprovalRepo } from './approval-repo.js';
export { createApprovalLinkRepo } from './approval-link-repo.js';
export { createLabelRepo, createMitigationRepo, createCaseRepo } from './abuse-repo.js';
