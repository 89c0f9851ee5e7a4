// Managed policies: versions, review, activation and the per-tenant sets they compile into.
export { diffVersions } from './diff.js';
export type { PolicyDiff } from './diff.js';
export { PolicyRecordSchema, PolicyVersionSchema, ReviewSchema, VERSION_STATUSES } from './records.js';
export type { ActiveCheck, ActiveSource, NewVersion, PolicyRecord, PolicyRepo, PolicyVersion, Review, VersionStatus } from './records.js';
export { releaseOf, sourceHash } from './release.js';
export { createPolicyService, isPolicyName, isSafePolicyPath, policyNameOfFile, lintManaged, MAX_POLICY_SOURCE, personOf, PolicyInvalid, POLICY_READERS, POLICY_WRITERS } from './service.js';
export type { PolicyService, PolicyServiceDeps, ReplayRequest } from './service.js';
export { REPLAY_ROLES } from './service.js';
export { replayDecisions } from './replay.js';
export type { ReplayChange, ReplayReport, ReplaySample } from './replay.js';
export type { AuditRepoLike, ReplayQuery } from './replay-source.js';
export { createTenantPolicySets, managedFile } from './tenant-sets.js';
export type { FileSets, ReleaseFeed, TenantPolicySets, TenantSetStatus } from './tenant-sets.js';
