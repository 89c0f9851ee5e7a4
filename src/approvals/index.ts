export { APPROVAL_READERS, createApprovalService, subjectText } from './service.js';
export type { ApprovalService, ApprovalServiceDeps, OnRequest, Resolution, ResolveInput } from './service.js';
export { refusalOf } from './eligibility.js';
export type { Refusal } from './eligibility.js';
export type { ApprovalRepo, StoredApproval, VoteChange } from './ports.js';
