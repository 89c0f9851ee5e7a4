import { describe, expect, it } from 'vitest';
import type { AuditEvent, Finding } from '../domain/index.js';
import { call, policy, setOf, settings } from '../policy/test-helpers.js';
import { createCheckpoint } from './checkpoint.js';
import { createOfflineCheckpoint } from './offline-checkpoint.js';
import type { Stage } from './stages.js';

const DSN = 'postgres://admin:hunter2secret@db.internal:5432/prod';
const SECRET: Finding = { category: 'secret', type: 'connection_string', score: 0.99, severity: 'high', start: 0, end: DSN.length, detector: 'warden.secret', evidence: 'postgres://…', path: 'args.dsn' };
const detectors = { scan: async () => [SECRET], scanValue: () => [{ ...SECRET, path: 'result.text' }] };
const set = setOf(
  settings('acme', '{ defaultEffect: allow }'),
  `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: guard, scope: acme/x }
spec:
  scan: { detectors: [secret], on: [input, output], redact: [secret] }
  rules:
    - { name: ok, effect: allow }
`,
  policy('hours', 'acme', `    - { name: nights, effect: deny, match: { tools: ["shell.*"] }, when: 'context.hour >= 20' }`),
);

describe('the offline checkpoint', () => {
  it('answers what the online checkpoint answers, less the audit event id, and writes nothing', async () => {
    const events: AuditEvent[] = [];
    const online = createCheckpoint({ policies: { current: () => set }, registry: { findTool: async () => undefined, findAgent: async () => undefined }, audit: { append: async (e) => void events.push(...e) }, clock: { now: () => new Date('2026-11-24T12:00:00Z') }, detectors });
    const stages: Stage[] = [];
    const offline = createOfflineCheckpoint({ policies: set, detectors, now: new Date('2026-11-24T12:00:00Z'), onStage: (s) => void stages.push(s) });
    const action = call('acme/x', 'db.query', { args: { dsn: DSN } });
    const a = await online.check(action);
    const b = await offline.check(action);
    const { auditEventId, ...rest } = a.decision;
    expect(auditEventId).toBe(events[0]!.id);
    expect(b.decision).toEqual(rest);
    expect(b.decision.redactedArgs!.dsn).toMatch(/^\[REDACTED:secret\]/);
    expect(b.action).toEqual(a.action);
    expect(Object.keys(b.timings).sort()).toEqual(['approve', 'audit', 'checks', 'detect', 'evaluate', 'identify', 'registry', 'screen']);
    expect(stages).toEqual(['identify', 'registry', 'detect', 'screen', 'evaluate', 'checks', 'approve', 'audit']);
    // The output pass runs offline too, and audits nothing.
    const out = await offline.inspect(action, { text: DSN });
    expect(out.obligations).toEqual([{ type: 'redact', params: { categories: ['secret'], paths: ['result.text'] } }]);
    expect(JSON.stringify(out.value)).not.toContain('hunter2secret');
    expect(stages.at(-1)).toBe('inspect');
    expect(events).toHaveLength(2);
  });

  it('takes the time from the action, else from `now`', async () => {
    const shell = call('acme/x', 'shell.run');
    const evening = createOfflineCheckpoint({ policies: set, now: new Date('2026-11-24T22:00:00Z') });
    expect((await evening.check(shell)).decision.effect).toBe('deny');
    expect((await evening.check({ ...shell, context: { time: '2026-11-24T10:00:00Z' } })).decision.effect).toBe('allow');
  });

  it('uses the facts the action carries: a registry that knows nothing adds none and refuses only what the action itself says', async () => {
    const offline = createOfflineCheckpoint({ policies: set });
    const blocked = await offline.check(call('acme/x', 'old.wipe', { tool: { server: 'old', name: 'old.wipe', status: 'blocked' } }));
    expect(blocked.decision).toMatchObject({ effect: 'deny', reasons: [{ policy: 'registry', rule: 'tool-blocked' }] });
    expect(blocked.decision).not.toHaveProperty('auditEventId');
  });
});
