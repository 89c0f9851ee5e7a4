import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent, Decision } from '../domain/index.js';

/**
 * Most distinct values one label takes in a process (policy and rule ids, server and destination
 * names); further values are counted under `_other`, so a tenant's thousand policies cannot blow up a
 * scrape. Each label name has its own budget.
 */
export const MAX_LABEL_VALUES = 200;
export const OTHER = '_other';

/** Seconds buckets from 50 µs to 10 s: stages run in microseconds, upstreams and commits in milliseconds. */
const SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What a scrape reads at the moment it runs (queue depths, pending approvals). */
export interface MetricSources {
  /** Events appended and not yet committed. */
  auditQueued?(): number;
  /** Approval requests waiting for an answer, every tenant together. */
  approvalsPending?(): Promise<number>;
}

/**
 * The process's metrics, in a registry of its own (never prom-client's global one: two cores in one
 * process keep their own counts). Labels carry no tenant, principal or agent id: those are unbounded
 * and belong in the audit log.
 */
export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text of every series. */
  scrape(): Promise<string>;
  readonly contentType: string;
  /** A checkpoint pass decided. */
  decided(kind: string, decision: Decision): void;
  /** A checkpoint pass failed (an audit write that failed, a store down). */
  failed(pass: 'check' | 'inspect'): void;
  /** A checkpoint stage ran. */
  stage(stage: string, ms: number): void;
  /** The audit writer committed `events` in `ms`. */
  committed(events: number, ms: number): void;
  /** The audit writer refused an append (`audit.backpressure`). */
  backpressure(): void;
  /** A streaming destination is `events` behind the chain head, its oldest undelivered event `seconds` old. */
  streamLag(destination: string, tenantId: string, events: number, seconds: number): void;
  /** Committed audit events: upstream latency and errors, rate-limit refusals, abuse verdicts, approvals. */
  observeEvents(events: readonly AuditEvent[]): void;
}

/** Keeps a label's values within MAX_LABEL_VALUES. */
function bounded(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= MAX_LABEL_VALUES) return OTHER;
    seen.add(value);
    return value;
  };
}

/** Builds the metrics of one process; `sources` are read at scrape time. */
export function createMetrics(sources: MetricSources = {}, opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // Process metrics (CPU, RSS, event-loop lag, GC) come with prom-client; off in tests that build many cores.
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'warden_' });
  const policyName = bounded();
  const ruleName = bounded();
  const serverName = bounded();
  const destinationName = bounded();
  const verdictRule = bounded();
  const registers = [registry];

  const decisions = new Counter({ name: 'warden_decisions_total', help: 'checkpoint decisions by action kind and effect', labelNames: ['kind', 'effect'] as const, registers });
  const ruleDecisions = new Counter({
    name: 'warden_policy_rule_decisions_total',
    help: `decisions each enforced rule gave, by policy, rule and effect (at most ${MAX_LABEL_VALUES} policies and rules each; the rest under ${OTHER})`,
    labelNames: ['policy', 'rule', 'effect'] as const,
    registers,
  });
  const warned = new Counter({ name: 'warden_policy_warnings_total', help: 'decisions a warn-mode rule would have changed, by policy and rule', labelNames: ['policy', 'rule', 'would_be'] as const, registers });
  const findings = new Counter({ name: 'warden_detections_total', help: 'findings on decided actions, by category and severity', labelNames: ['category', 'severity'] as const, registers });
  const failures = new Counter({ name: 'warden_checkpoint_failures_total', help: 'checkpoint passes that failed (nothing forwarded), by pass', labelNames: ['pass'] as const, registers });
  const stages = new Histogram({ name: 'warden_checkpoint_stage_seconds', help: 'time in each checkpoint stage', labelNames: ['stage'] as const, buckets: SECONDS, registers });
  const upstream = new Histogram({ name: 'warden_upstream_request_seconds', help: 'upstream round trips of forwarded requests, by server, kind and outcome', labelNames: ['server', 'kind', 'outcome'] as const, buckets: SECONDS, registers });
  const upstreamErrors = new Counter({ name: 'warden_upstream_errors_total', help: 'forwarded requests the upstream failed (transport or protocol error), by server and kind', labelNames: ['server', 'kind'] as const, registers });
  const refusals = new Counter({ name: 'warden_gateway_refusals_total', help: 'requests refused after an allow: rate limited, limiter unavailable, invalid arguments, output withheld, audit failed', labelNames: ['kind', 'refusal'] as const, registers });
  const commits = new Histogram({ name: 'warden_audit_commit_seconds', help: 'one group commit of the audit writer', buckets: SECONDS, registers });
  const committedEvents = new Counter({ name: 'warden_audit_events_committed_total', help: 'audit events committed', registers });
  const pressure = new Counter({ name: 'warden_audit_backpressure_total', help: 'appends refused because the writer queue was full (audit.backpressure)', registers });
  new Gauge({
    name: 'warden_audit_queue_depth',
    help: 'audit events appended and not yet committed',
    registers,
    collect() {
      this.set(sources.auditQueued?.() ?? 0);
    },
  });
  // Per destination and tenant inside, summed per destination on the way out.
  const lags = new Map<string, Map<string, { events: number; seconds: number }>>();
  new Gauge({
    name: 'warden_stream_lag_events',
    help: 'audit events not yet delivered to a streaming destination (all tenants)',
    labelNames: ['destination'] as const,
    registers,
    collect() {
      this.reset();
      for (const [d, byTenant] of lags) this.set({ destination: d }, [...byTenant.values()].reduce((n, l) => n + l.events, 0));
    },
  });
  new Gauge({
    name: 'warden_stream_lag_seconds',
    help: 'age of the oldest audit event not yet delivered to a streaming destination',
    labelNames: ['destination'] as const,
    registers,
    collect() {
      this.reset();
      for (const [d, byTenant] of lags) this.set({ destination: d }, Math.max(0, ...[...byTenant.values()].map((l) => l.seconds)));
    },
  });
  const verdicts = new Counter({ name: 'warden_abuse_verdicts_total', help: 'abuse rule hits by rule, verdict and mode (shadow hits are counted, not applied)', labelNames: ['rule', 'verdict', 'mode'] as const, registers });
  const approvals = new Counter({ name: 'warden_approval_requests_total', help: 'approval request state changes (created, approved, denied, expired, cancelled)', labelNames: ['state'] as const, registers });
  new Gauge({
    name: 'warden_approvals_pending',
    help: 'approval requests waiting for an answer, every tenant together',
    registers,
    async collect() {
      // A scrape while the store is down still answers, without this series' value.
      if (sources.approvalsPending) this.set(await sources.approvalsPending().catch(() => Number.NaN));
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    decided(kind, decision) {
      decisions.inc({ kind, effect: decision.effect });
      for (const r of decision.reasons) ruleDecisions.inc({ policy: policyName(r.policy), rule: ruleName(r.rule), effect: r.effect });
      for (const w of decision.warnings) warned.inc({ policy: policyName(w.policy), rule: ruleName(w.rule), would_be: w.wouldBe ?? w.effect });
      for (const f of decision.findings) findings.inc({ category: f.category, severity: f.severity });
    },
    failed: (pass) => failures.inc({ pass }),
    stage: (stage, ms) => stages.observe({ stage }, ms / 1000),
    committed(n, ms) {
      commits.observe(ms / 1000);
      committedEvents.inc(n);
    },
    backpressure: () => pressure.inc(),
    streamLag(destination, tenantId, events, seconds) {
      const d = destinationName(destination);
      let byTenant = lags.get(d);
      if (!byTenant) lags.set(d, (byTenant = new Map()));
      byTenant.set(tenantId, { events, seconds });
    },
    observeEvents(events) {
      for (const e of events) {
        const type = e.type;
        const details = (e.details ?? {}) as Record<string, unknown>;
        const kind = e.action?.kind ?? 'unknown';
        if (type.endsWith('.completed') || type.endsWith('.failed') || type.endsWith('.output_blocked')) {
          const ms = details.upstreamMs;
          const server = e.target?.server;
          if (typeof ms === 'number' && server !== undefined) {
            const outcome = type.endsWith('.failed') ? 'error' : details.isError === true ? 'tool_error' : 'ok';
            upstream.observe({ server: serverName(server), kind, outcome }, ms / 1000);
            if (type.endsWith('.failed')) upstreamErrors.inc({ server: serverName(server), kind });
          }
        }
        if (typeof details.refusal === 'string' && details.refusal !== 'upstream_error') refusals.inc({ kind, refusal: details.refusal });
        if (type === 'abuse.verdict.applied' || type === 'abuse.verdict.shadowed') {
          const rule = typeof details.rule === 'string' ? details.rule : 'unknown';
          const kinds = Array.isArray(details.kinds) ? details.kinds.filter((k): k is string => typeof k === 'string') : [];
          for (const verdict of kinds.length > 0 ? kinds : ['unknown']) verdicts.inc({ rule: verdictRule(rule), verdict, mode: type === 'abuse.verdict.applied' ? 'enforce' : 'shadow' });
        }
        if (type.startsWith('approval.request.')) {
          const state = type.slice('approval.request.'.length);
          if (state === 'created' || state === 'approved' || state === 'denied' || state === 'expired' || state === 'cancelled') approvals.inc({ state });
        }
      }
    },
  };
}
