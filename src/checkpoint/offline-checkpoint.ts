import type { Action } from '../domain/index.js';
import { decisionTime, type PolicySet } from '../policy/index.js';
import { runStages, type Checkpoint } from './checkpoint.js';
import { withoutClaims } from './stages/identify.js';
import type { DetectorPort, RegistryPort } from './ports.js';
import type { Stage } from './stages.js';

/** What the offline checkpoint runs over: policies and, when some policy scans, detectors. */
export interface OfflineCheckpointOptions {
  /** The policy set to decide with (a fixed set: nothing reloads offline). */
  policies: PolicySet;
  /** The detectors for scan sections; without them no finding is reported. Build them only when `policies.scans` is not empty. */
  detectors?: DetectorPort;
  /**
   * The time for actions that carry no `context.time` (an action's own `context.time` always wins).
   * @default the current time, read once per pass
   */
  now?: Date;
  /** Called after each stage with its duration. */
  onStage?: (stage: Stage, ms: number) => void;
}

/** A registry that knows nothing, so the action's own tool and agent facts are the ones used. */
const UNKNOWING: RegistryPort = { findTool: async () => undefined, findAgent: async () => undefined };

/**
 * The same checkpoint, every stage of it, without a server: no audit sink (no event is written and
 * `decision.auditEventId` is absent), facts from the action itself, the clock standing at the
 * action's `context.time` or `now` (the caller's time is still reported as `claimedTime`). `warden policy eval` and `warden policy test` decide with it, so their
 * decisions are the ones `POST /api/v1/decide` returns for the same action and policies.
 * @example
 * const checkpoint = createOfflineCheckpoint({ policies: set, now: new Date('2026-11-24T10:00:00Z') });
 * const { decision } = await checkpoint.check(action);
 */
export function createOfflineCheckpoint(opts: OfflineCheckpointOptions): Checkpoint {
  const set = opts.policies;
  const now = opts.now;
  // The server's stages judge an untrusted caller's `context.time` as a claim and decide at the
  // clock; offline, the action names the moment to simulate, so the clock stands at that moment.
  // The decision is then the one `POST /api/v1/decide` gives for the same action at that time.
  const at = (action: Action): Checkpoint =>
    runStages(
      {
        policies: { current: () => set },
        registry: UNKNOWING,
        audit: undefined,
        clock: { now: () => decisionTime(action, now ?? new Date()) },
        detectors: opts.detectors,
        capture: undefined,
      },
      opts.onStage ? { begin: () => ({ stage: (stage, _at, ms) => opts.onStage!(stage, ms), end: () => {} }) } : undefined,
    );
  const undated = at({ kind: 'tool.call', scope: 'offline' });
  return {
    check: (action, caller, checkOpts) => at(action).check(action, caller, checkOpts),
    inspect: (action, value, caller) => undated.inspect(action, value, caller),
    resultPayload: (value) => undated.resultPayload(value),
  };
}

/**
 * The action as the policies of an offline `check(action)` (no caller) see it: the registry knows
 * nothing, so only the identify stage changes it, keeping `context.time` as `context.claimedTime`
 * (the clock stands at that time). `warden policy test --coverage` runs the policies again over it.
 */
export function offlinePolicyView(action: Action): Action {
  return withoutClaims(action, false);
}
