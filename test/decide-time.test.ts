import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/identity/index.js';
import { apiCore, type ApiUnderTest } from './support/api-core.js';
import { createCheckpoint, createOfflineCheckpoint } from '../src/checkpoint/index.js';
import { ActionSchema, compileValidator, type Action, type AuditEvent, type Decision } from '../src/domain/index.js';
import { call, policy, setOf, settings } from '../src/policy/test-helpers.js';

// Item 4 of issue 11: the time a decision is judged at is Warden's, not the caller's. A caller's
// `context.time` is kept as `context.claimedTime` (in the decision's explanation and so in the
// audit event) and decides only for a caller trusted to assert it.
const set = setOf(
  settings('acme', '{ defaultEffect: allow }'),
  policy('hours', 'acme', `    - { name: night-shell, effect: deny, match: { tools: ["shell.*"] }, when: 'context.hour < 8 || context.hour >= 20' }`),
);
const NIGHT = '2026-11-24T22:00:00.000Z';
const DAY = '2026-11-24T10:00:00.000Z';
const shell = (context?: Record<string, unknown>): Action => call('acme/p', 'shell.run', context ? { context } : {});

const events: AuditEvent[] = [];
let clockAt = NIGHT;
const clock = { now: () => new Date(clockAt) };
// The checkpoint alone, for the stage-level cases (trusted time, offline parity).
const checkpoint = createCheckpoint({
  policies: { current: () => set },
  registry: { findTool: async () => undefined, findAgent: async () => undefined },
  audit: { append: async (e) => void events.push(...e) },
  clock,
});

// The decide route as `warden serve` mounts it: real tokens, a clock the test sets.
let api: ApiUnderTest;
beforeAll(async () => {
  api = await apiCore([settings('acme', '{ defaultEffect: allow }'), policy('hours', 'acme', `    - { name: night-shell, effect: deny, match: { tools: ["shell.*"] }, when: 'context.hour < 8 || context.hour >= 20' }`)].join('---\n'), { clock });
});
afterAll(() => api.close());

const decide = async (payload: unknown, role: Role = 'agent'): Promise<{ status: number; body: Decision & { error?: { code: string; message: string } } }> => {
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/decide', payload: payload as object, headers: api.auth(role) });
  return { status: res.statusCode, body: res.json() };
};

const lastEvent = async (type: string): Promise<AuditEvent | undefined> => {
  await api.core.flush();
  return (await api.core.auditLog.list({ type, limit: 1 })).events[0];
};

describe('POST /api/v1/decide judges time-window rules at the server clock', () => {
  it('refuses a credential that is not an enforcer when it claims another time, and audits the attempt', async () => {
    clockAt = NIGHT;
    const { status, body } = await decide(shell({ time: DAY }));
    expect(status).toBe(403);
    expect(body.error!.code).toBe('auth.assertion_refused');
    expect(body.error!.message).toContain(`time \`${DAY}\``);
    const refused = await lastEvent('auth.decide.refused');
    expect(refused).toMatchObject({ category: 'auth', outcome: 'denied', actor: { type: 'agent', authMethod: 'token', name: 'test-agent' }, details: { asserted: [expect.stringContaining(DAY)] } });
    // Nothing was decided.
    expect((await api.core.auditLog.list({ type: 'tool.call.decided', limit: 5 })).events).toHaveLength(0);
  });

  it("keeps a non-enforcer's time within a few seconds of the clock as a claim only", async () => {
    clockAt = NIGHT;
    const near = new Date(Date.parse(NIGHT) - 2_000).toISOString();
    const { status, body } = await decide(shell({ time: near }));
    expect(status).toBe(200);
    expect(body.effect).toBe('deny');
    expect(body.context).toEqual({
      time: NIGHT,
      claimedTime: near,
      setByWarden: ['context.time', 'context.hour', 'context.weekday', 'context.timezone'],
      assertedByCaller: ['context.claimedTime'],
    });
    // The audit event carries the decision, so the claimed time is in the log beside the real one.
    const decided = await lastEvent('tool.call.decided');
    expect(decided!.decision).toMatchObject({ effect: 'deny', context: { time: NIGHT, claimedTime: near } });
    expect(decided!.time).toBe(NIGHT);
    expect(decided!.agent).toEqual({ id: 'agent-1' });
  });

  it('judges an enforcer at the time it asserts, and says the time came from it', async () => {
    clockAt = NIGHT;
    const { status, body } = await decide(shell({ time: DAY }), 'enforcer');
    expect(status).toBe(200);
    expect(body.effect).toBe('allow');
    expect(body.context).toEqual({ time: DAY, setByWarden: ['context.hour', 'context.weekday', 'context.timezone'], assertedByCaller: ['context.time'] });
    const decided = await lastEvent('tool.call.decided');
    expect(decided!.time).toBe(NIGHT);
    expect(decided!.details).toMatchObject({ submittedBy: { name: 'test-enforcer', method: 'token' } });
  });

  it('lists what the caller asserted, and sets hour, weekday and timezone itself whatever is sent', async () => {
    clockAt = NIGHT;
    const { body } = await decide(shell({ ip: '10.0.0.1', environment: 'staging', hour: 12, weekday: 'monday', ticket: 'CHG-1' }));
    // `hour: 12` sent by the caller does not make it daytime.
    expect(body.effect).toBe('deny');
    expect(body.context).toEqual({
      time: NIGHT,
      setByWarden: ['context.time', 'context.hour', 'context.weekday', 'context.timezone'],
      assertedByCaller: ['context.environment', 'context.ip', 'context.ticket'],
    });
  });

  it('bounds the list of asserted fields', async () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${String(i).padStart(3, '0')}${'x'.repeat(100)}`, i]));
    const { body } = await decide(shell(many));
    expect(body.context!.assertedByCaller).toHaveLength(33);
    expect(body.context!.assertedByCaller.at(-1)).toBe('…and 68 more');
    expect(Math.max(...body.context!.assertedByCaller.map((n) => n.length))).toBeLessThanOrEqual(65);
  });
});

describe('a caller trusted to assert the time', () => {
  it('is judged at its own time, and the decision says the time came from it', async () => {
    clockAt = NIGHT;
    const { decision } = await checkpoint.check(shell({ time: DAY }), { trustedTime: true });
    expect(decision.effect).toBe('allow');
    expect(decision.context).toEqual({
      time: DAY,
      setByWarden: ['context.hour', 'context.weekday', 'context.timezone'],
      assertedByCaller: ['context.time'],
    });
    // The event is still stamped with the server's clock.
    expect(events.at(-1)!.time).toBe(NIGHT);
  });

  it('is untrusted unless the flag says so', async () => {
    clockAt = NIGHT;
    expect((await checkpoint.check(shell({ time: DAY }))).decision.effect).toBe('deny');
    expect((await checkpoint.check(shell({ time: DAY }), { ip: '10.0.0.1' })).decision.effect).toBe('deny');
  });
});

describe('offline evaluation (warden policy eval / test)', () => {
  it('simulates the server at the moment the action names, with the same explanation', async () => {
    const offline = createOfflineCheckpoint({ policies: set, now: new Date(NIGHT) });
    const day = (await offline.check(shell({ time: DAY }))).decision;
    expect(day.effect).toBe('allow');
    clockAt = DAY;
    const { auditEventId, ...online } = (await checkpoint.check(shell({ time: DAY }))).decision;
    expect(auditEventId).toEqual(expect.any(String));
    expect(day).toEqual(online);
    // Without a time in the action, `now` is the moment.
    expect((await offline.check(shell())).decision).toMatchObject({ effect: 'deny', context: { time: NIGHT } });
  });
});

describe('a leap second', () => {
  const check = compileValidator(ActionSchema);
  for (const t of ['2026-06-30T23:59:60Z', '2026-06-30T23:59:60.5Z', '2026-06-30T22:59:60-01:00', '2026-06-30t23:59:60z']) {
    it(`\`${t}\` is refused with a precise message, by the API and by the CLI's validator`, async () => {
      const { status, body } = await decide(shell({ time: t }));
      expect(status).toBe(400);
      expect(body.error!.code).toBe('action.invalid');
      expect(body.error!.message).toContain('`/context/time` must be an RFC 3339 time');
      expect(body.error!.message).toContain('a leap second `:60` cannot be represented');
      const r = check(shell({ time: t }));
      expect(r.ok).toBe(false);
    });
  }

  it('the second before it is accepted, and a time no schema checked never reaches a condition', async () => {
    clockAt = NIGHT;
    expect((await decide(shell({ time: '2026-06-30T23:59:59Z' }), 'enforcer')).status).toBe(200);
    // A programmatic, trusted caller bypassing the schema: its unrepresentable time is not used.
    const { decision } = await checkpoint.check(shell({ time: '2026-06-30T23:59:60Z' }), { trustedTime: true });
    expect(decision).toMatchObject({ effect: 'deny', context: { time: NIGHT, setByWarden: expect.arrayContaining(['context.time']) } });
    expect(decision.errors).toBeUndefined();
  });
});
