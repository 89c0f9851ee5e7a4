export { actionOfDecisionEvent, buildDecisionEvent, buildDetectionEvent } from './audit-events.js';
export type { ActionFacts, CallerInfo, NotReplayable } from './audit-events.js';
export { createCheckpoint } from './checkpoint.js';
export type { Checkpoint, CheckOptions, CheckpointDeps, CheckpointObserver, CheckpointResult, PassObservation, ResultPayload } from './checkpoint.js';
export { createOfflineCheckpoint, offlinePolicyView } from './offline-checkpoint.js';
export type { OfflineCheckpointOptions } from './offline-checkpoint.js';
export type { CaptureOptions, CheckPort, CheckRequest, CheckSubject, DetectorPort, PolicyProvider, RegistryPort } from './ports.js';
export { failedOutcome } from './fold-checks.js';
export { policySetFor } from './ports.js';
export { lookUpRegistry } from './stages/registry.js';
export type { InspectResult } from './stages/inspect.js';
export { OUTPUT_STAGES, STAGES } from './stages.js';
export type { Stage, StageTimings } from './stages.js';
// The policy rule for a scope claim an edge accepts (X-Warden-Scope): what narrowing would stop enforcing.
export { narrowingLosses } from '../policy/index.js';
export type { NarrowingLoss, NarrowingSubject } from '../policy/index.js';
export type { AbusePort, AbuseScreenResult, SessionHistoryPort, SessionKey } from './ports.js';
