import { describe, expect, it } from 'vitest';
import { newAuditEvent, type AuditEvent } from '../domain/index.js';
import { loadAbuseSources } from './rule-compile.js';
import { replayAbuseRules } from './replay.js';
import type { VelocityPort } from './rule-run.js';

/** Exact sliding counts over kept timestamps. */
function exact(): VelocityPort {
  const hits = new Map<string, number[]>();
  const count = (k: string, w: number, at: number) => (hits.get(k) ?? []).filter((t) => t > at - w).length;
  return {
    observe: async (reads, at) => reads.map((r) => (hits.set(r.key, [...(hits.get(r.key) ?? []), at]), count(r.key, r.windowMs, at))),
    peek: async (reads, at) => reads.map((r) => count(r.key, r.windowMs, at)),
  };
}

const RULES = `
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: secret-read }
spec:
  category: exfiltration
  on: [finding.detected]
  when: findings.exists(f, f.category == "secret")
  verdicts: [{ label: { entity: session, name: sensitive-read, for: 1h } }]
  reason: a secret was read
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: exfil }
spec:
  mode: enforce
  synchronous: true
  category: exfiltration
  when: '"sensitive-read" in session.labels && has(args.url)'
  verdicts: [{ deny: { for: 1h } }]
  reason: network after a secret
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata: { name: burst }
spec:
  category: runaway
  features: { n: { count: agent, window: 1m } }
  when: features.n > 2
  verdicts: [{ review: {} }]
  reason: burst
`;

const base = (type: string, at: number, extra: Partial<AuditEvent>): AuditEvent =>
  newAuditEvent({ tenantId: 'acme', scope: 'acme', category: 'decision', type, outcome: 'success', actor: { type: 'agent', id: 'bot', sessionId: 's1' }, agent: { id: 'bot' }, ...extra }, new Date(Date.parse('2026-12-07T10:00:00Z') + at));

async function* stream(events: AuditEvent[]): AsyncIterable<AuditEvent> {
  yield* events;
}

describe('abuse replay', () => {
  it('reports hits per rule over recorded events, with labels one rule gives seen by the next', async () => {
    const set = loadAbuseSources([{ file: 'r.yaml', text: RULES }]).set!;
    const call = (at: number, args?: Record<string, unknown>) =>
      base('tool.call.decided', at, { action: { kind: 'tool.call' }, target: { kind: 'tool', server: 'web', name: 'fetch' }, decision: { effect: 'allow', reasons: [], warnings: [], findings: [], obligations: [] }, ...(args ? { payload: { argsDigest: 'sha256:x', args } } : {}) });
    const events = [
      call(0, { url: 'https://a.example' }),
      base('finding.detected', 1, { category: 'detection', findings: [{ category: 'secret', type: 'aws_key', score: 1, severity: 'high', detector: 'secrets', span: { start: 0, end: 1 }, evidence: '***' } as never] }),
      call(2, { url: 'https://b.example' }),
      call(3),
      base('abuse.verdict.applied', 4, { category: 'detection' }),
    ];
    const r = await replayAbuseRules(stream(events), set, { velocity: exact() });
    const by = Object.fromEntries(r.rules.map((x) => [x.rule, x]));
    expect(r.read).toBe(5);
    expect(by['secret-read']!.hits).toBe(1);
    // The first call came before the secret; the third had no captured arguments.
    expect(by.exfil!.hits).toBe(1);
    expect(by.exfil!.samples[0]).toMatchObject({ eventId: events[2]!.id, entity: 'bot' });
    expect(r.withoutArgs).toBe(1);
    // It reads decisions only (`*.decided` by default): the third call goes past 2.
    expect(by.burst).toMatchObject({ hits: 1, entities: 1, mode: 'shadow' });
  });
});
