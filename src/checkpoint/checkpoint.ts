import type { Action, Decision, Finding } from '../domain/index.js';
import { decide, type PolicySet } from '../policy/index.js';
import { buildDecisionEvent, type CallerInfo } from './audit-stage.js';
import type { AuditSink, Clock, RegistryPort } from './ports.js';
import { lookUpRegistry } from './registry-stage.js';
import type { Stage, StageTimings } from './stages.js';

/** Runs the detectors a scope mandates; the detection issue plugs real ones in here. */
export interface DetectorPort {
  scan(action: Action): Promise<Finding[]>;
}

/** Hands out the policy set in force; swapped atomically when policies reload. */
export interface PolicyProvider {
  current(): PolicySet;
}

/** Everything the checkpoint depends on, narrowed to what it uses. */
export interface CheckpointDeps {
  policies: PolicyProvider;
  registry: RegistryPort;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  detectors?: DetectorPort;
  /** Called after each stage with its duration; for metrics and traces. */
  onStage?: (stage: Stage, ms: number) => void;
}

/** One pass's result: the decision (with its audit event id) and how long each stage took. */
export interface CheckpointResult {
  decision: Decision;
  action: Action;
  timings: StageTimings;
}

/** The pipeline every enforcement point calls; see docs/architecture.md for the stage diagram. */
export interface Checkpoint {
  /** Decides a validated action and resolves once its audit event is durable. */
  check(action: Action, caller?: CallerInfo): Promise<CheckpointResult>;
}

/** Builds the checkpoint over its ports. */
export function createCheckpoint(deps: CheckpointDeps): Checkpoint {
  return {
    async check(input, caller) {
      const started = performance.now();
      const timings: StageTimings = {};
      let mark = started;
      const lap = (stage: Stage) => {
        const now = performance.now();
        timings[stage] = now - mark;
        deps.onStage?.(stage, now - mark);
        mark = now;
      };

      // identify: the enforcement point has already validated and attributed the action.
      lap('identify');
      const { action, refusal } = await lookUpRegistry(deps.registry, input);
      lap('registry');
      const findings = deps.detectors ? await deps.detectors.scan(action) : [];
      lap('detect');
      const time = deps.clock.now();
      let decision: Decision;
      if (refusal) {
        decision = { effect: 'deny', reasons: [refusal], warnings: [], findings, obligations: [] };
      } else {
        const set = deps.policies.current();
        decision = decide(set, action, { now: time, findings });
      }
      lap('evaluate');
      // approve: require_approval is returned as is until the approvals issue adds the workflow.
      lap('approve');
      const event = buildDecisionEvent(action, decision, { time, ...(caller ? { caller } : {}), latencyMs: performance.now() - started });
      await deps.audit.append([event]);
      lap('audit');
      return { decision: { ...decision, auditEventId: event.id }, action, timings };
    },
  };
}
