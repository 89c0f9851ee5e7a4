import { redactValue } from '../detect/index.js';
import { digestJson, type Action, type AuditEvent, type AuditSink, type Clock, type Decision, type Finding, type Obligation } from '../domain/index.js';
import { decide, mandatedFindings, resolveScan, type PolicySet, type ScanMandate } from '../policy/index.js';
import { buildDecisionEvent, buildDetectionEvent, type CallerInfo } from './audit-stage.js';
import type { RegistryPort } from './ports.js';
import { lookUpRegistry } from './registry-stage.js';
import type { Stage, StageTimings } from './stages.js';

/** The detectors (src/detect's DetectorSet fits): scans an action's input and a call's output. */
export interface DetectorPort {
  scan(action: Action): Promise<Finding[]>;
  scanValue(value: unknown, source: 'tool_result', root?: string): Finding[];
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
  /**
   * Keep call bodies in the audit log: arguments in decision events (`payload.args`), results in
   * result events (`payload.result`), with secrets and personal data masked whatever the scope's scan
   * section says. Off by default: events hold digests only.
   * @default { args: false, results: false }
   */
  capture?: CaptureOptions;
}

/** Which call bodies the audit log keeps besides their digests. */
export interface CaptureOptions {
  args?: boolean;
  results?: boolean;
}

/** One pass's result: the decision (with its audit event id) and how long each stage took. */
export interface CheckpointResult {
  decision: Decision;
  action: Action;
  timings: StageTimings;
}

/** What output inspection returns: the value to hand on (redacted where mandated) and what was seen. */
export interface InspectResult {
  value: unknown;
  findings: Finding[];
  obligations: Obligation[];
}

/** The pipeline every enforcement point calls; see docs/architecture.md for the stage diagram. */
export interface Checkpoint {
  /**
   * Decides a validated action and resolves once its audit event is durable. `result.action` is
   * what to forward: its arguments are redacted where a scan section asks for it.
   */
  check(action: Action, caller?: CallerInfo): Promise<CheckpointResult>;
  /** Scans a call's result when a scan section asks for output scanning; redacts and audits findings. */
  inspect(action: Action, value: unknown, caller?: CallerInfo): Promise<InspectResult>;
  /** A result event's payload: the result's digest and, when results are captured, the result with secrets and PII masked. */
  resultPayload(value: unknown): Promise<{ resultDigest: string; result?: unknown }>;
}

const SENSITIVE = new Set<Finding['category']>(['secret', 'pii']);

function valueAt(root: unknown, rootName: string, path: string): unknown {
  if (path === rootName) return root;
  if (!path.startsWith(rootName)) return undefined;
  let v: unknown = root;
  for (const m of path.slice(rootName.length).matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[m[1] ?? m[2]!];
  }
  return v;
}

/**
 * Evidence of any finding must never show a secret or personal data another detector found in the
 * same text (an injection finding's evidence is a window of raw text): such spans are masked with
 * `*` of equal length, so every finding's offsets stay valid.
 */
export function scrubEvidence(findings: readonly Finding[], root: unknown, rootName: string): Finding[] {
  const sensitive = sensitiveOf(findings);
  if (sensitive.length === 0) return [...findings];
  return findings.map((f) => {
    if (SENSITIVE.has(f.category) || f.path === undefined) return f;
    const spans = sensitive.filter((x) => x.path === f.path && x.start < f.end && x.end > f.start);
    if (spans.length === 0) return f;
    const text = valueAt(root, rootName, f.path);
    if (typeof text !== 'string') return { ...f, evidence: '[evidence withheld: overlaps sensitive data]' };
    let masked = text;
    for (const x of spans) masked = masked.slice(0, x.start) + '*'.repeat(Math.max(0, x.end - x.start)) + masked.slice(x.end);
    const window = masked.slice(f.start, f.end);
    return { ...f, evidence: window.length > 60 ? `${window.slice(0, 60)}…` : window };
  });
}

/**
 * A call body as the audit log may keep it: secrets and personal data masked. Without detectors
 * nothing could be masked, so nothing is kept (fail closed: a digest only).
 */
function captureValue(detectors: DetectorPort | undefined, value: unknown, root: 'args' | 'result'): unknown {
  if (!detectors) return undefined;
  return redactValue(value, sensitiveOf(detectors.scanValue(value, 'tool_result', root)), root);
}

/** The secret and personal-data findings that point into a value (the ones masking needs). */
function sensitiveOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => SENSITIVE.has(f.category) && f.path !== undefined);
}

function redactionOf(mandate: ScanMandate | undefined, findings: readonly Finding[]): { hits: Finding[]; obligation: Obligation | undefined } {
  const hits = mandate ? findings.filter((f) => mandate.redact.has(f.category) && f.path !== undefined) : [];
  if (hits.length === 0) return { hits, obligation: undefined };
  return { hits, obligation: { type: 'redact', params: { categories: [...new Set(hits.map((f) => f.category))], paths: [...new Set(hits.map((f) => f.path!))] } } };
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
      const set = deps.policies.current();
      const mandate = resolveScan(set.scans, action.scope);
      // One scan serves the scope's mandate and, when arguments are captured, their masking.
      const captureArgs = deps.capture?.args === true && action.args !== undefined;
      const scanned = deps.detectors && (mandate?.input || captureArgs) ? await deps.detectors.scan(action) : [];
      const findings = mandate?.input ? scrubEvidence(mandatedFindings(mandate, scanned), action.args, 'args') : [];
      lap('detect');
      const time = deps.clock.now();
      let decision: Decision;
      if (refusal) {
        decision = { effect: 'deny', reasons: [refusal], warnings: [], findings, obligations: [] };
      } else {
        decision = decide(set, action, { now: time, findings });
      }
      // Redact before anything leaves: the forwarded arguments and the audit digest both see the masked form.
      const { hits, obligation } = redactionOf(mandate, findings);
      let forwarded = action;
      if (obligation) {
        forwarded = { ...action, args: redactValue(action.args, hits, 'args') as Action['args'] };
        decision = { ...decision, obligations: [...decision.obligations, obligation] };
      }
      lap('evaluate');
      // approve: require_approval is returned as is until the approvals issue adds the workflow.
      lap('approve');
      // The kept copy masks secrets and PII whatever the mandate says, and whatever the mandate redacted.
      const captured = captureArgs && deps.detectors ? redactValue(action.args, [...sensitiveOf(scanned), ...hits], 'args') : undefined;
      const event = buildDecisionEvent(forwarded, decision, { time, ...(caller ? { caller } : {}), latencyMs: performance.now() - started, ...(captured !== undefined ? { capturedArgs: captured } : {}) });
      const events: AuditEvent[] = [event];
      if (findings.length > 0) events.push(buildDetectionEvent(forwarded, findings, { time, source: 'input', correlationId: event.id, ...(caller ? { caller } : {}) }));
      await deps.audit.append(events);
      lap('audit');
      // The caller forwards the masked arguments; the audit event kept only their digest.
      return { decision: { ...decision, auditEventId: event.id, ...(obligation && forwarded.args ? { redactedArgs: forwarded.args } : {}) }, action: forwarded, timings };
    },

    async inspect(action, value, caller) {
      const mandate = resolveScan(deps.policies.current().scans, action.scope);
      if (!mandate?.output || !deps.detectors) return { value, findings: [], obligations: [] };
      const findings = scrubEvidence(mandatedFindings(mandate, deps.detectors.scanValue(value, 'tool_result', 'result')), value, 'result');
      if (findings.length === 0) return { value, findings, obligations: [] };
      const { hits, obligation } = redactionOf(mandate, findings);
      const out = obligation ? redactValue(value, hits, 'result') : value;
      await deps.audit.append([buildDetectionEvent(action, findings, { time: deps.clock.now(), source: 'output', ...(caller ? { caller } : {}) })]);
      return { value: out, findings, obligations: obligation ? [obligation] : [] };
    },

    async resultPayload(value) {
      const result = deps.capture?.results ? captureValue(deps.detectors, value, 'result') : undefined;
      return { resultDigest: digestJson(value), ...(result !== undefined ? { result } : {}) };
    },
  };
}
