import { digestJson, wellFormedValue, type Action, type AuditSink, type Clock, type Decision } from '../domain/index.js';
import type { CallerInfo } from './audit-events.js';
import { captureValue } from './evidence.js';
import { reached, type Pass, type PassDeps } from './pass.js';
import type { AbusePort, ApprovalPort, CaptureOptions, CheckPort, DetectorPort, PolicyProvider, RegistryPort, SessionHistoryPort } from './ports.js';
import { OUTPUT_STAGES, STAGES, type Stage, type StageTimings } from './stages.js';
import type { InspectResult } from './stages/inspect.js';

export type { AbusePort, AbuseScreenResult, ApprovalPort, CaptureOptions, CheckPort, DetectorPort, PolicyProvider, SessionHistoryPort, SessionKey } from './ports.js';
export type { InspectResult } from './stages/inspect.js';
export { scrubEvidence } from './evidence.js';

/**
 * Hears checkpoint passes for metrics and traces. It never changes what is decided: what it returns
 * is only read for the trace context the pass's audit events carry, and a throw from it is dropped.
 */
export interface CheckpointObserver {
  begin(pass: 'check' | 'inspect', action: Action, caller: CallerInfo | undefined): PassObservation;
}

/** One observed pass. */
export interface PassObservation {
  /**
   * The W3C traceparent the pass's audit events carry in place of the caller's: the observer's own
   * span for the pass, in the caller's trace. Absent: the caller's is kept.
   */
  readonly traceparent?: string | undefined;
  /** A stage ran from `startedAt` (`performance.now()`) for `ms`. */
  stage(stage: Stage, startedAt: number, ms: number): void;
  /** The pass ended with `decision` (a check) or failed with `error`. */
  end(decision: Decision | undefined, error?: unknown): void;
}

/** Everything the checkpoint depends on, narrowed to what it uses. */
export interface CheckpointDeps {
  policies: PolicyProvider;
  registry: RegistryPort;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  detectors?: DetectorPort;
  /** Hears every pass and its stages: metrics and traces (src/telemetry). */
  observer?: CheckpointObserver;
  /**
   * Keep call bodies in the audit log: arguments in decision events (`payload.args`), results in
   * result events (`payload.result`), with secrets and personal data masked whatever the scope's scan
   * section says. Off by default: events hold digests only.
   * @default { args: false, results: false }
   */
  capture?: CaptureOptions;
  /** Opens and resolves approval requests; without it a require_approval decision is returned as is. */
  approvals?: ApprovalPort;
  /** Runs the external status checks rules name; without it every check follows its `onError` (as offline). */
  checks?: CheckPort;
  /** Keeps agent sessions' recent steps for `session.history`; without it every session is empty. */
  sessions?: SessionHistoryPort;
  /** Labels, mitigations in force and synchronous abuse rules; without it nothing is labelled or mitigated. */
  abuse?: AbusePort;
}

/** One pass's result: the decision (with its audit event id) and how long each stage took. */
export interface CheckpointResult {
  decision: Decision;
  action: Action;
  timings: StageTimings;
  /**
   * Present only when the pass ran with `durability: 'deferred'` and wrote events: settles with the
   * decision event's commit (rejects with `audit.write_failed` or `audit.backpressure`). It is
   * already marked handled, so a caller busy elsewhere when it rejects raises no unhandled
   * rejection; the caller must still await it before anything reaches its agent.
   */
  durable?: Promise<void>;
}

/** How one `check` relates to the commit of its decision event. */
export interface CheckOptions {
  /**
   * `before-return`: `check` resolves only once the decision event is durable (a failed commit
   * rejects `check`). `deferred`: `check` resolves as soon as the events are handed to the sink, and
   * `durable` carries the commit, so a caller may overlap it with other work (the gateway's
   * `before-respond` audit mode). Either way the events are appended before `check` resolves, in
   * the order passes reached the audit stage.
   * @default 'before-return'
   */
  durability?: 'before-return' | 'deferred';
}

/** The pipeline every enforcement point calls; see docs/architecture.md for the stage diagram. */
export interface Checkpoint {
  /**
   * Decides a validated action and resolves once its audit event is durable (unless `opts` defers
   * the commit to `result.durable`). `result.action` is what to forward: its arguments are redacted
   * where a scan section asks for it.
   */
  check(action: Action, caller?: CallerInfo, opts?: CheckOptions): Promise<CheckpointResult>;
  /** Scans a call's result when a scan section asks for output scanning; redacts and audits findings. */
  inspect(action: Action, value: unknown, caller?: CallerInfo): Promise<InspectResult>;
  /** A result event's payload: the result's digest and, when results are captured, the result with secrets and PII masked. */
  resultPayload(value: unknown): Promise<ResultPayload>;
}

/** A result event's payload: the digest of what the agent received and, when captured, a masked copy. */
export interface ResultPayload {
  /** Absent only when the result has no canonical form (then `resultDigestNote` says why). */
  resultDigest?: string;
  /** Why the digest is not over the exact result (repaired text) or is missing. */
  resultDigestNote?: string;
  result?: unknown;
}

/** Builds the checkpoint over its ports. */
export function createCheckpoint(deps: CheckpointDeps): Checkpoint {
  return runStages(
    { policies: deps.policies, registry: deps.registry, audit: deps.audit, clock: deps.clock, detectors: deps.detectors, capture: deps.capture, approvals: deps.approvals, checks: deps.checks, sessions: deps.sessions, abuse: deps.abuse },
    deps.observer,
  );
}

/**
 * The checkpoint over a set of pass dependencies: `check` runs STAGES in order, `inspect` runs
 * OUTPUT_STAGES, each stage timed and reported to the observer.
 */
export function runStages(deps: PassDeps, observer?: CheckpointObserver): Checkpoint {
  const timed = async <T>(stage: Stage, timings: StageTimings, seen: PassObservation | undefined, run: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await run();
    const ms = performance.now() - t0;
    timings[stage] = ms;
    if (seen) quietly(() => seen.stage(stage, t0, ms));
    return out;
  };
  return {
    async check(input, caller, opts) {
      const timings: StageTimings = {};
      const seen = observer ? quietly(() => observer.begin('check', input, caller)) : undefined;
      const traced = seen?.traceparent ? { ...caller, traceparent: seen.traceparent } : caller;
      let pass: Pass = { started: performance.now(), caller: traced, action: input, ...(opts?.durability === 'deferred' ? { deferDurable: true } : {}) };
      try {
        for (const stage of STAGES) {
          const current = pass;
          pass = await timed(stage.name, timings, seen, () => stage.run(current, deps));
        }
      } catch (err) {
        if (seen) quietly(() => seen.end(undefined, err));
        throw err;
      }
      const answered = answer(pass);
      if (seen) quietly(() => seen.end(answered.decision));
      return { ...answered, timings, ...(pass.durable ? { durable: pass.durable } : {}) };
    },

    async inspect(action, value, caller) {
      const timings: StageTimings = {};
      const seen = observer ? quietly(() => observer.begin('inspect', action, caller)) : undefined;
      const traced = seen?.traceparent ? { ...caller, traceparent: seen.traceparent } : caller;
      let result: InspectResult = { value, findings: [], obligations: [] };
      try {
        for (const stage of OUTPUT_STAGES) result = await timed(stage.name, timings, seen, () => stage.run({ action, value: result.value, caller: traced }, deps));
      } catch (err) {
        if (seen) quietly(() => seen.end(undefined, err));
        throw err;
      }
      if (seen) quietly(() => seen.end(undefined));
      return result;
    },

    async resultPayload(value) {
      // INVARIANT: never throws: a result event is written whatever an upstream sent.
      // The common case digests once; only a result canonical JSON refuses is walked and repaired.
      let safe = value;
      let note: string | undefined;
      let resultDigest: string | undefined;
      try {
        resultDigest = digestJson(value);
      } catch {
        safe = wellFormedValue(value);
        note = safe === value ? undefined : 'unpaired UTF-16 surrogates in the result were replaced by U+FFFD before digesting and keeping it';
        try {
          resultDigest = digestJson(safe);
        } catch (err) {
          note = `the result has no canonical JSON form to digest (${err instanceof Error ? err.message : String(err)})`;
        }
      }
      const result = deps.capture?.results && resultDigest !== undefined ? await captureValue(deps.detectors, safe, 'result') : undefined;
      return { ...(resultDigest !== undefined ? { resultDigest } : {}), ...(note ? { resultDigestNote: note } : {}), ...(result !== undefined ? { result } : {}) };
    },
  };
}

/** Runs an observer's hook; metrics and traces never decide, so a failure of theirs is dropped. */
function quietly<T>(hook: () => T): T | undefined {
  try {
    return hook();
  } catch {
    return undefined;
  }
}

/** What a finished pass answers: the decision with its event id and, when masked, the arguments to forward. */
function answer(pass: Pass): { decision: Decision; action: Action } {
  const decision = reached(pass.decision, 'decision');
  const forwarded = reached(pass.forwarded, 'forwarded');
  const { obligation } = reached(pass.redaction, 'redaction');
  // The caller forwards the masked arguments; the audit event kept only their digest.
  return {
    decision: { ...decision, ...(pass.auditEventId !== undefined ? { auditEventId: pass.auditEventId } : {}), ...(obligation && forwarded.args ? { redactedArgs: forwarded.args } : {}) },
    action: forwarded,
  };
}
