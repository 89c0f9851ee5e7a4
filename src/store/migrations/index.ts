import { auditEvents } from './001-audit-events.js';
import { auditDelivery } from './002-audit-delivery.js';
import type { Migration } from './migration.js';
import { registry } from './003-registry.js';
import { auditRetention } from './004-audit-retention.js';
import { auditPartitions } from './005-audit-partitions.js';
import { auditStubEvidence } from './006-audit-stub-evidence.js';
import { identity } from './007-identity.js';
import { tokenHash } from './008-token-hash.js';
import { auditCanonicalBody } from './009-audit-canonical-body.js';
import { managedPolicies } from './010-managed-policies.js';
import { approvals } from './011-approvals.js';
import { approvalLinks } from './012-approval-links.js';
import { abuse } from './013-abuse.js';

export type { Migration } from './migration.js';

/** Every migration, in the order they apply. Append only: never edit or reorder a released one. */
export const MIGRATIONS: readonly Migration[] = [auditEvents, auditDelivery, registry, auditRetention, auditPartitions, auditStubEvidence, identity, tokenHash, auditCanonicalBody, managedPolicies, approvals, approvalLinks, abuse];
