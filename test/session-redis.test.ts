import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisSessionHistory } from '../src/abuse/index.js';
import { createCheckpoint } from '../src/checkpoint/index.js';
import type { Action, Decision } from '../src/domain/index.js';
import { loadPolicySources, type PolicySet } from '../src/policy/index.js';
import { freePort, hasRedis, startRedis, stopRedis } from './support/redis.js';

// Issue 15 item 1, the Redis option: two replicas (two checkpoints over one Redis of the test's own)
// see one session whole, output findings included; with Redis down a decision that needs the history
// fails closed with a coded error, and a set with no session rule does not touch Redis at all.
const FLOW = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: flows, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.call] } }
    - name: no-post-after-secret
      match: { actions: [tool.call], tools: ["http.*"] }
      when: 'session.history.exists(a, a.findings.exists(f, f.category == "secret"))'
      effect: deny
`;
const PLAIN = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: plain, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.call] } }
`;
const setOf = (text: string) => loadPolicySources([{ file: 'p.yaml', text }]).set as PolicySet;
const registry = { findTool: async () => undefined, findAgent: async () => undefined };
const audit = { append: async () => {} };
const clock = { now: () => new Date() };
const act = (tool: string): Action => ({ kind: 'tool.call', scope: 'acme/x', agent: { id: 'agent-1' }, tool: { server: tool.split('.')[0]!, name: tool } });
const caller = { sessionId: 's-1', tenantId: 'default' };

describe.skipIf(!hasRedis)('session history in Redis', () => {
  let redis: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    url = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (redis) await stopRedis(redis);
  });

  it('two replicas see one session: an output finding recorded on one denies the post on the other', async () => {
    const a = connectRedisSessionHistory(url);
    const b = connectRedisSessionHistory(url);
    const set = setOf(FLOW);
    const one = createCheckpoint({ policies: { current: () => set }, registry, audit, clock, sessions: a });
    const two = createCheckpoint({ policies: { current: () => set }, registry, audit, clock, sessions: b });
    const read = await one.check(act('files.read'), caller);
    expect(read.decision.effect).toBe('allow');
    await a.addOutputFindings({ tenantId: 'default', agentId: 'agent-1', sessionId: 's-1' }, { server: 'files', name: 'files.read' }, [{ category: 'secret', type: 'github_token', score: 0.6, source: 'output' }]);
    const post = await two.check(act('http.post'), caller);
    expect(post.decision.effect).toBe('deny');
    expect(post.decision.reasons[0]!.steps).toEqual([expect.objectContaining({ tool: 'files.read', eventId: read.decision.auditEventId })]);
    expect((await two.check(act('http.post'), { ...caller, sessionId: 's-2' })).decision.effect).toBe('allow');
    await a.close();
    await b.close();
  });

  it('Redis down: a decision that reads the session fails closed with session.unavailable; one that does not is decided', async () => {
    const port = await freePort();
    const sessions = connectRedisSessionHistory(`redis://127.0.0.1:${port}`, { timeoutMs: 200 });
    const flow = setOf(FLOW);
    const plain = setOf(PLAIN);
    const reads = createCheckpoint({ policies: { current: () => flow }, registry, audit, clock, sessions });
    const ignores = createCheckpoint({ policies: { current: () => plain }, registry, audit, clock, sessions });
    await expect(reads.check(act('http.post'), caller)).rejects.toMatchObject({ code: 'session.unavailable' });
    const d: Decision = (await ignores.check(act('http.post'), caller)).decision;
    expect(d.effect).toBe('allow');
    await sessions.close();
  });
});
