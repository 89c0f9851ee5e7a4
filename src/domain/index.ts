export {
  ACTION_KINDS,
  ActionKindSchema,
  ActionSchema,
  ActionContextSchema,
  AgentSchema,
  PrincipalSchema,
  RiskSchema,
  ScopePathSchema,
  ServerSchema,
  ToolSchema,
} from './action.js';
export type { Action, ActionContext, ActionKind, Agent, Principal, Risk, ScopePath, Server, Tool } from './action.js';
export { AUDIT_CATEGORIES, AUDIT_OUTCOMES, AUDIT_SCHEMA_VERSION, AuditCategorySchema, AuditEventSchema, AuditOutcomeSchema, IntegritySchema, SEVERITIES } from './audit-event.js';
export type { AuditCategory, AuditEvent, AuditEventInput, AuditOutcome, Integrity } from './audit-event.js';
export { newAuditEvent } from './audit-event.js';
export { AUDIT_EVENT_TYPES } from './audit-event-types.js';
export type { AuditEventType } from './audit-event-types.js';
export { ApprovalRefSchema, ApprovalRequirementSchema, CheckOutcomeSchema, DecisionSchema, EFFECTS, EffectSchema, EvaluationErrorSchema, ObligationSchema, ReasonSchema } from './decision.js';
export type { ApprovalRef, ApprovalRequirement, CheckOutcome, CheckRequirement, Decision, Effect, EvaluationError, Obligation, Reason } from './decision.js';
export { ERROR_CODES, RETIRED_ERROR_CODES, WardenError, isWardenError } from './errors.js';
export type { ErrorCode, SourceSpan } from './errors.js';
export { FINDING_CATEGORIES, FindingSchema } from './finding.js';
export type { Finding } from './finding.js';
export { uuidv7 } from './ids.js';
export { MAX_ISSUES, NO_NUL_PATTERN, compileValidator, describeIssues, formatIssues } from './validate.js';
export { MAX_JSON_DEPTH, echoKey, echoText, jsonTextTooDeep, jsonValueIssue } from './json-limits.js';
export type { ValidationIssue, ValidationResult } from './validate.js';
export { canonicalJson, digestJson } from './canonical.js';
export { compileGlob, compileGlobs, firstSegment, foldCase, literalFirstSegment } from './glob.js';
export type { GlobMatcher, GlobOptions } from './glob.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export type { AuditSink } from './audit-sink.js';
export { wellFormedValue } from './well-formed.js';
export { parseInstant } from './instant.js';
export { canonicalHostName, hostNameOfHeader } from './host-name.js';
export { isAddressLiteral, isLocalhostName, isPublicAddress, specialRange } from './ip-ranges.js';
export { NO_CONTROL_PATTERN } from './control-chars.js';
export { APPROVAL_STATUSES, ApprovalPolicySchema, ApprovalRequestSchema, ApprovalStatusSchema, ApprovalSubjectSchema, ApprovalVoteSchema, approvalDigest, sessionDigest } from './approval.js';
export type { ApprovalPolicy, ApprovalRequest, ApprovalStatus, ApprovalSubject, ApprovalVote, ApprovalWebhook } from './approval.js';
export { approvalTarget, approversText } from './approval-text.js';
export { PERSON_ROLES, ROLES } from './roles.js';
export type { Role } from './roles.js';
export { SessionStepSchema, SessionViewSchema } from './session.js';
export type { EntityLabels, SessionStep, SessionView } from './session.js';
export { AbuseSourceSchema, CASE_OUTCOMES, CASE_STATUSES, CONNOTATIONS, CaseEvidenceSchema, CaseSchema, ConnotationSchema, ENTITY_KINDS, EntityKindSchema, EntityRefSchema, LABEL_NAME_PATTERN, LabelNameSchema, LabelSchema, MITIGATION_KINDS, MitigationSchema, ProposedMitigationSchema, SEVERITIES_ABUSE } from './abuse.js';
export type { AbuseSource, AgentKill, Case, CaseEvidence, CaseOutcome, CaseStatus, Connotation, EntityKind, EntityRef, Label, Mitigation, MitigationKind, ProposedMitigation } from './abuse.js';
