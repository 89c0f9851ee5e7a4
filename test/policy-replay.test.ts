import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionOfDecisionEvent, buildDecisionEvent } from '../src/checkpoint/index.js';
import type { Action, Decision } from '../src/domain/index.js';
import { apiCore, type ApiUnderTest } from './support/api-core.js';
import { cli } from './support/cli.js';

// Issue 13 item 5: what a draft would have done to recorded traffic, against a hand-checked case.

const FILES = 'apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n';
const DRAFT = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: tighten, scope: acme }
spec:
  rules:
    - name: no-shell
      match: { tools: ["shell.*"] }
      effect: deny
    - name: no-prod-deploys
      match: { tools: ["deploy.*"] }
      when: 'args.env == "prod"'
      effect: deny
`;

const call = (name: string, args?: Record<string, unknown>, agent = 'agent-7'): object => ({
  kind: 'tool.call',
  scope: 'acme/p1',
  agent: { id: agent },
  principal: { id: 'alice', roles: ['dev'] },
  tool: { server: 'ops', name },
  ...(args ? { args } : {}),
});

/** The recorded traffic: 3 shell calls, 2 prod deploys, 1 staging deploy, 1 read. */
const TRAFFIC = [call('shell.run'), call('shell.run'), call('shell.exec'), call('deploy.release', { env: 'prod' }), call('deploy.release', { env: 'prod' }), call('deploy.release', { env: 'staging' }), call('files.read')];

async function record(api: ApiUnderTest): Promise<void> {
  for (const a of TRAFFIC) {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/decide', headers: api.auth('enforcer'), payload: a });
    expect(res.json().effect).toBe('allow');
  }
  await api.core.flush();
}

describe('replay over recorded decisions', () => {
  let captured: ApiUnderTest;
  let bare: ApiUnderTest;
  beforeAll(async () => {
    captured = await apiCore(FILES, { capture: { args: true } });
    bare = await apiCore(FILES);
    await record(captured);
    await record(bare);
  });
  afterAll(async () => {
    await captured?.close();
    await bare?.close();
  });

  it('reports exactly the decisions a draft changes, grouped by rule, with samples', async () => {
    const res = await captured.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: captured.auth('policy_author'), payload: { drafts: [{ name: 'tighten', source: DRAFT }], samples: 2 } });
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json();
    expect(r).toMatchObject({ total: 7, read: 7, evaluated: 7, changed: 5, driftFromRecorded: 0, notReplayable: { argsNotCaptured: 0, registryRefusal: 0, unreadable: 0 } });
    expect(r.changes.map((c: { from: string; to: string; rule: string; count: number }) => [c.from, c.to, c.rule, c.count])).toEqual([
      ['allow', 'deny', 'tighten/no-shell', 3],
      ['allow', 'deny', 'tighten/no-prod-deploys', 2],
    ]);
    expect(r.changes[0].samples).toHaveLength(2);
    expect(r.changes[1].samples[0]).toMatchObject({ scope: 'acme/p1', target: 'ops.deploy.release', from: { effect: 'allow' }, to: { effect: 'deny', reasons: ['tighten/no-prod-deploys'] } });
    // The draft changed nothing stored and no decision.
    const after = await captured.app.inject({ method: 'POST', url: '/api/v1/decide', headers: captured.auth('enforcer'), payload: call('shell.run') });
    expect(after.json().effect).toBe('allow');
  });

  it('counts what cannot be decided again when arguments were not captured', async () => {
    const res = await bare.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: bare.auth('owner'), payload: { drafts: [{ name: 'tighten', source: DRAFT }] } });
    const r = res.json();
    // The deploys carried arguments a rule that matches them reads; the rest replay.
    expect(r).toMatchObject({ read: 7, evaluated: 4, changed: 3, notReplayable: { argsNotCaptured: 3 } });
  });

  it('replays a stored version, streams progress as JSON lines, and is refused to a viewer', async () => {
    const put = await captured.app.inject({ method: 'PUT', url: '/api/v1/policies/tighten', headers: { ...captured.auth('policy_author'), 'content-type': 'application/yaml' }, payload: DRAFT });
    expect(put.statusCode).toBe(201);
    const res = await captured.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: { ...captured.auth('auditor'), accept: 'application/x-ndjson' }, payload: { drafts: [{ name: 'tighten', version: 1 }] } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l));
    // The first test's check added one more shell call to the record.
    expect(lines.at(-1).report).toMatchObject({ read: 8, changed: 6 });
    const viewer = await captured.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: captured.auth('viewer'), payload: { drafts: [{ name: 'tighten', version: 1 }] } });
    expect(viewer.statusCode).toBe(403);
    const broken = await captured.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: captured.auth('owner'), payload: { drafts: [{ name: 'x', source: 'kind: [' }] } });
    expect(broken.statusCode).toBe(422);
    // A time range with nothing in it reads nothing.
    const empty = await captured.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: captured.auth('owner'), payload: { drafts: [{ name: 'tighten', version: 1 }], to: '2000-01-01T00:00:00Z' } });
    expect(empty.json()).toMatchObject({ total: 0, read: 0, changed: 0 });
  });

  it('a registry refusal is not replayed as a policy decision', async () => {
    await captured.core.registry.setAgentStatus('agent-suspended', 'suspended');
    const res = await captured.app.inject({ method: 'POST', url: '/api/v1/decide', headers: captured.auth('enforcer'), payload: call('shell.run', undefined, 'agent-suspended') });
    expect(res.json().effect).toBe('deny');
    await captured.core.flush();
    const r = (await captured.app.inject({ method: 'POST', url: '/api/v1/policies/replay', headers: captured.auth('owner'), payload: { drafts: [{ name: 'tighten', source: DRAFT }] } })).json();
    expect(r.notReplayable.registryRefusal).toBe(1);
  });

  it('a decision event holds the action it decided: facts, context and captured arguments round-trip', () => {
    const action: Action = {
      kind: 'tool.call',
      scope: 'acme/p1',
      agent: { id: 'a1', kind: 'coder', owner: 'bob', model: 'm', status: 'active', attributes: { team: 'x' } },
      principal: { id: 'alice', type: 'user', roles: ['dev'], attributes: { clearance: 2 } },
      tool: { server: 'ops', name: 'deploy.release', risk: 'high', capabilities: ['network'], classification: 'internal', status: 'approved', owner: 'ops-team', attributes: { tier: 1 } },
      args: { env: 'prod' },
      context: { environment: 'ci', ip: '10.0.0.1' },
    } as Action;
    const decision: Decision = { effect: 'allow', reasons: [], warnings: [], findings: [], obligations: [], context: { time: '2026-12-01T10:00:00.000Z', setByWarden: [], assertedByCaller: [] } };
    const event = buildDecisionEvent(action, decision, { time: new Date('2026-12-01T10:00:00Z'), capturedArgs: action.args });
    const got = actionOfDecisionEvent(JSON.parse(JSON.stringify(event)));
    expect('action' in got && got.action).toEqual({ ...action, context: { ...action.context, time: '2026-12-01T10:00:00.000Z' } });
    const bareEvent = buildDecisionEvent({ kind: 'tool.call', scope: 'acme', tool: { server: 's', name: 't' } } as Action, decision, { time: new Date() });
    expect(bareEvent.details).toBeUndefined();
  });
});

describe('warden policy replay (on the database)', () => {
  it('reports the changes and exits 0; a bad --draft is a usage error', { timeout: 60_000 }, async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createCore, createServerApp } = await import('../src/main/index.js');
    const { roleTokens } = await import('./support/api-core.js');
    const pino = (await import('pino')).default;
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-replay-'));
    const policyDir = mkdtempSync(join(tmpdir(), 'warden-replay-p-'));
    writeFileSync(join(policyDir, 'p.yaml'), FILES);
    const core = await createCore({ database: { dataDir }, policies: [policyDir], auditCapture: { args: true } }, { logger: pino({ level: 'silent' }) });
    const app = createServerApp(core);
    const tokens = await roleTokens(core);
    for (const a of TRAFFIC) await app.inject({ method: 'POST', url: '/api/v1/decide', headers: { authorization: `Bearer ${tokens.enforcer}` }, payload: a });
    await app.close();
    await core.close();
    const draftDir = mkdtempSync(join(tmpdir(), 'warden-replay-d-'));
    writeFileSync(join(draftDir, 'tighten.yaml'), DRAFT);
    const without = await cli(['policy', 'replay', draftDir, '--data-dir', dataDir]);
    // Without the files the server served, today's baseline denies everything: the draft changes nothing, and the drift says why.
    expect(without.stdout).toContain('0 would change');
    expect(without.stdout).toContain('7 are decided otherwise today');
    const r = await cli(['policy', 'replay', draftDir, '--data-dir', dataDir, '--policies', policyDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('5 would change');
    expect(r.stdout).toMatch(/3 +allow → deny +by tighten\/no-shell/);
    const bad = await cli(['policy', 'replay', '--draft', 'tighten', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
  });
});
