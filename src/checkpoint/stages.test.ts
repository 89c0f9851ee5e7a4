import { describe, expect, it } from 'vitest';
import type { AuditEvent, Finding } from '../domain/index.js';
import { call, policy, setOf, settings } from '../policy/test-helpers.js';
import type { Pass, PassDeps } from './pass.js';
import { OUTPUT_STAGES, STAGES } from './stages.js';
import { approve } from './stages/approve.js';
import { audit } from './stages/audit.js';
import { detect } from './stages/detect.js';
import { evaluate } from './stages/evaluate.js';
import { identify } from './stages/identify.js';
import { registry } from './stages/registry.js';

const DSN = 'postgres://admin:hunter2secret@db.internal:5432/prod';
const SECRET: Finding = { category: 'secret', type: 'connection_string', score: 0.99, severity: 'high', start: 0, end: DSN.length, detector: 'warden.secret', evidence: 'postgres://…', path: 'args.dsn' };
const set = setOf(
  settings('acme', '{ defaultEffect: allow }'),
  `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: guard, scope: acme/x }
spec:
  scan: { detectors: [secret], redact: [secret] }
  rules:
    - { name: sees-secret, effect: allow, when: 'args.dsn.startsWith("postgres://admin")', message: policies see the unmasked arguments }
`,
  policy('p', 'acme', `    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] } }`),
);

function deps(extra: Partial<PassDeps> = {}): PassDeps & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    policies: { current: () => set },
    registry: { findTool: async (server, name) => (name === 'old.wipe' ? { server, name, status: 'blocked' } : undefined), findAgent: async () => undefined },
    audit: { append: async (e) => void events.push(...e) },
    clock: { now: () => new Date('2026-11-24T12:00:00Z') },
    detectors: { scan: async (a) => (a.args?.dsn ? [SECRET] : []), scanValue: () => [SECRET] },
    capture: undefined,
    events,
    ...extra,
  };
}

/** Runs the stages up to and including `last`, deep-freezing every pass so a stage that mutated one would throw. */
async function upTo(last: string, d: PassDeps, pass: Pass): Promise<Pass> {
  let p = deepFreeze(pass);
  for (const stage of STAGES) {
    p = deepFreeze(await stage.run(p, d));
    if (stage.name === last) return p;
  }
  throw new Error(`no stage ${last}`);
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

const start = (action = call('acme/x', 'db.query', { args: { dsn: DSN, sql: 'select 1' } })): Pass => ({ started: 0, caller: undefined, action });

describe('the stage list', () => {
  it('runs identify, registry, detect, screen, evaluate, checks, approve, audit; inspect is the output pass', () => {
    expect(STAGES.map((s) => s.name)).toEqual(['identify', 'registry', 'detect', 'screen', 'evaluate', 'checks', 'approve', 'audit']);
    expect(OUTPUT_STAGES.map((s) => s.name)).toEqual(['inspect']);
  });

  it('never mutates a pass: every stage returns a new one', async () => {
    const d = deps();
    const p = await upTo('audit', d, start());
    expect(p.auditEventId).toEqual(expect.any(String));
  });
});

describe('identify and approve', () => {
  it('hand the pass on unchanged', async () => {
    const p = start();
    expect(await identify.run(p, deps())).toBe(p);
    const evaluated = await upTo('evaluate', deps(), start(call('acme/x', 'shell.run')));
    expect(await approve.run(evaluated, deps())).toBe(evaluated);
  });
});

describe('registry', () => {
  it('records a refusal for a blocked tool and decides nothing else', async () => {
    const p = await registry.run(start(call('acme/x', 'old.wipe')), deps());
    expect(p.refusal).toMatchObject({ policy: 'registry', rule: 'tool-blocked' });
    expect(p.action.tool).toMatchObject({ status: 'blocked' });
    expect(p.decision).toBeUndefined();
  });
});

describe('detect', () => {
  it('keeps the action as the policies must see it and masks only the copy to forward', async () => {
    const p = await detect.run(await upTo('registry', deps(), start()), deps());
    expect(p.findings).toEqual([SECRET]);
    expect(p.action.args!.dsn).toBe(DSN);
    expect(p.forwarded!.args!.dsn).toMatch(/^\[REDACTED:secret\]/);
    expect(p.redaction!.obligation).toEqual({ type: 'redact', params: { categories: ['secret'], paths: ['args.dsn'] } });
    expect(p.decision).toBeUndefined();
  });

  it('runs no detector where no scan section applies and none is captured', async () => {
    let scans = 0;
    const d = deps({ detectors: { scan: async () => (scans++, [SECRET]), scanValue: () => [] } });
    const p = await detect.run(start(call('acme/y', 'db.query', { args: { dsn: DSN } })), d);
    expect(scans).toBe(0);
    expect(p.findings).toEqual([]);
    expect(p.forwarded).toBe(p.action);
  });
});

describe('evaluate', () => {
  it('decides over the unmasked action and adds the redact obligation', async () => {
    const p = await evaluate.run(await upTo('detect', deps(), start()), deps());
    expect(p.decision).toMatchObject({ effect: 'allow', reasons: [{ rule: 'sees-secret' }], obligations: [{ type: 'redact' }] });
    expect(p.time).toEqual(new Date('2026-11-24T12:00:00Z'));
  });

  it('turns a registry refusal into a deny without running policies', async () => {
    const p = await upTo('evaluate', deps(), start(call('acme/x', 'old.wipe')));
    expect(p.decision).toEqual({ effect: 'deny', reasons: [p.refusal], warnings: [], findings: [], obligations: [], context: expect.objectContaining({ time: '2026-11-24T12:00:00.000Z' }) });
  });
});

describe('audit', () => {
  it('writes the decision and detection events over the forwarded action', async () => {
    const d = deps();
    const p = await audit.run(await upTo('approve', d, start()), d);
    expect(d.events.map((e) => e.type)).toEqual(['tool.call.decided', 'finding.detected']);
    expect(p.auditEventId).toBe(d.events[0]!.id);
    expect(JSON.stringify(d.events)).not.toContain('hunter2secret');
  });

  it('writes nothing and claims no event id without a sink (offline)', async () => {
    const d = deps({ audit: undefined });
    const before = await upTo('approve', d, start());
    const p = await audit.run(before, d);
    expect(p).toBe(before);
    expect(p.auditEventId).toBeUndefined();
  });
});
