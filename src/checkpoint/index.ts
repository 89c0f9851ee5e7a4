export { buildDecisionEvent, buildDetectionEvent } from './audit-stage.js';
export type { CallerInfo } from './audit-stage.js';
export { createCheckpoint } from './checkpoint.js';
export type { CaptureOptions, Checkpoint, CheckpointDeps, CheckpointResult, DetectorPort, InspectResult, PolicyProvider } from './checkpoint.js';
export type { RegistryPort } from './ports.js';
export { lookUpRegistry } from './registry-stage.js';
export { STAGES } from './stages.js';
export type { Stage, StageTimings } from './stages.js';
