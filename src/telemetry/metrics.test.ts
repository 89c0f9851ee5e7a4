import { describe, expect, it } from 'vitest';
import type { AuditEvent, Decision } from '../domain/index.js';
import { createMetrics, MAX_LABEL_VALUES, OTHER } from './metrics.js';

const decision = (policy: string, rule: string): Decision => ({ effect: 'deny', reasons: [{ policy, version: 1, rule, effect: 'deny' }], warnings: [], findings: [], obligations: [] });

const series = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('metrics', () => {
  it(`keeps at most ${MAX_LABEL_VALUES} policy names; the rest are counted under ${OTHER}, so a tenant's many policies cannot blow up a scrape`, async () => {
    const m = createMetrics({}, { processMetrics: false });
    for (let i = 0; i < MAX_LABEL_VALUES + 50; i++) m.decided('tool.call', decision(`p${i}`, 'r'));
    const text = await m.scrape();
    const rows = series(text, 'warden_policy_rule_decisions_total');
    expect(rows).toHaveLength(MAX_LABEL_VALUES + 1);
    expect(rows).toContain(`warden_policy_rule_decisions_total{policy="${OTHER}",rule="r",effect="deny"} 50`);
    expect(series(text, 'warden_decisions_total')).toEqual([`warden_decisions_total{kind="tool.call",effect="deny"} ${MAX_LABEL_VALUES + 50}`]);
  });

  it('reads upstream latency and errors, refusals, abuse verdicts and approval changes from committed events, and ignores what it does not know', async () => {
    const m = createMetrics({}, { processMetrics: false });
    const ev = (type: string, extra: Partial<AuditEvent> = {}): AuditEvent => ({ type, action: { kind: 'tool.call' }, details: {}, ...extra }) as unknown as AuditEvent;
    m.observeEvents([
      ev('tool.call.completed', { target: { kind: 'tool', server: 'git', name: 'git.push' }, details: { upstreamMs: 12 } }),
      ev('tool.call.completed', { target: { kind: 'tool', server: 'git', name: 'git.push' }, details: { upstreamMs: 3, isError: true } }),
      ev('tool.call.failed', { target: { kind: 'tool', server: 'git', name: 'git.push' }, details: { upstreamMs: 40, refusal: 'upstream_error' } }),
      ev('tool.call.rate_limited', { details: { refusal: 'rate_limited' } }),
      ev('abuse.verdict.shadowed', { details: { rule: 'burst', kinds: ['label', 'throttle'] } }),
      ev('abuse.verdict.applied', { details: { rule: 'burst' } }),
      ev('approval.request.created'),
      ev('approval.request.voted'),
      ev('something.else', { details: { upstreamMs: 'x' } }),
    ]);
    const text = await m.scrape();
    expect(series(text, 'warden_upstream_request_seconds_count').sort()).toEqual([
      'warden_upstream_request_seconds_count{server="git",kind="tool.call",outcome="error"} 1',
      'warden_upstream_request_seconds_count{server="git",kind="tool.call",outcome="ok"} 1',
      'warden_upstream_request_seconds_count{server="git",kind="tool.call",outcome="tool_error"} 1',
    ]);
    expect(series(text, 'warden_upstream_errors_total')).toEqual(['warden_upstream_errors_total{server="git",kind="tool.call"} 1']);
    expect(series(text, 'warden_gateway_refusals_total')).toEqual(['warden_gateway_refusals_total{kind="tool.call",refusal="rate_limited"} 1']);
    expect(series(text, 'warden_abuse_verdicts_total').sort()).toEqual([
      'warden_abuse_verdicts_total{rule="burst",verdict="label",mode="shadow"} 1',
      'warden_abuse_verdicts_total{rule="burst",verdict="throttle",mode="shadow"} 1',
      'warden_abuse_verdicts_total{rule="burst",verdict="unknown",mode="enforce"} 1',
    ]);
    expect(series(text, 'warden_approval_requests_total')).toEqual(['warden_approval_requests_total{state="created"} 1']);
  });

  it('sums stream lag per destination over tenants, and a scrape survives a pending-approvals source that fails', async () => {
    const m = createMetrics({ approvalsPending: () => Promise.reject(new Error('store down')), auditQueued: () => 7 }, { processMetrics: false });
    m.streamLag('siem', 't1', 5, 2);
    m.streamLag('siem', 't2', 3, 9);
    m.streamLag('siem', 't1', 1, 1);
    const text = await m.scrape();
    expect(series(text, 'warden_stream_lag_events')).toEqual(['warden_stream_lag_events{destination="siem"} 4']);
    expect(series(text, 'warden_stream_lag_seconds')).toEqual(['warden_stream_lag_seconds{destination="siem"} 9']);
    expect(series(text, 'warden_audit_queue_depth')).toEqual(['warden_audit_queue_depth 7']);
    expect(series(text, 'warden_approvals_pending')).toEqual(['warden_approvals_pending Nan']);
  });
});
