// Session history on the decision path (issue 15, "Performance": the added latency of session
// history stays under 0.1 ms p50). The anchor, measured in the same run: the same checkpoint over the
// same policies without a session. Both decide the same tool call; the session case reads a full
// history (64 steps) and its flow rule runs over it, then records the new step.
//   npx tsx bench/abuse/session-bench.ts
import { createMemorySessionHistory } from '../../src/abuse/index.js';
import { createCheckpoint } from '../../src/checkpoint/index.js';
import type { Action, SessionStep } from '../../src/domain/index.js';
import { loadPolicySources, type PolicySet } from '../../src/policy/index.js';
import { createMemoryTracker } from '../support/memory.js';

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: flows, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.call] } }
    - name: no-exfil-after-secret
      match: { actions: [tool.call] }
      when: 'session.history.exists(a, a.findings.exists(f, f.category == "secret")) && has(tool.capabilities) && "network" in tool.capabilities'
      effect: deny
`;
const set = loadPolicySources([{ file: 'p.yaml', text: POLICY }]).set as PolicySet;
const policies = { current: () => set };
const registry = { findTool: async () => ({ server: 's', name: 's.post', capabilities: ['network'] }), findAgent: async () => undefined };
const audit = { append: async () => {} };
const clock = { now: () => new Date() };
const action: Action = { kind: 'tool.call', scope: 'acme/x', agent: { id: 'agent-1' }, tool: { server: 's', name: 's.post' }, args: { url: 'https://example.com' } };

const sessions = createMemorySessionHistory({ maxSteps: 64 });
const key = { tenantId: 'default', agentId: 'agent-1', sessionId: 's-1' };
const step = (i: number): SessionStep => ({ eventId: `e${i}`, at: new Date(i).toISOString(), kind: 'tool.call', tool: { server: 's', name: `s.t${i % 7}` }, capabilities: ['filesystem'], effect: 'allow', findings: i % 5 === 0 ? [{ category: 'pii', type: 'email', score: 0.9, source: 'output' }] : [] });

const plain = createCheckpoint({ policies, registry, audit, clock });
const withSessions = createCheckpoint({ policies, registry, audit, clock, sessions });

async function run(label: string, check: () => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < 2000; i++) await check();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    // The session stays at 64 steps: each pass records one, the oldest drops.
    const t0 = performance.now();
    await check();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  void label;
  return times;
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const memory = createMemoryTracker();
for (let i = 0; i < 64; i++) sessions.record(key, step(i));
const N = 20_000;
// Interleaved rounds, so load on the machine falls on both alike.
const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < 4; round++) {
  a.push(...(await run('anchor', () => plain.check(action), N / 4)));
  b.push(...(await run('session', () => withSessions.check(action, { sessionId: 's-1' }), N / 4)));
  memory.sample();
}
a.sort((x, y) => x - y);
b.sort((x, y) => x - y);
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
console.log(`decisions: ${N} each; session history: 64 steps, a flow rule over it`);
console.log(`anchor (no session)   p50 ${us(q(a, 0.5))}  p99 ${us(q(a, 0.99))}`);
console.log(`with session history  p50 ${us(q(b, 0.5))}  p99 ${us(q(b, 0.99))}`);
console.log(`added p50 ${us(q(b, 0.5) - q(a, 0.5))} (target < 100 µs); ratio p50 ${(q(b, 0.5) / q(a, 0.5)).toFixed(2)}x, p99 ${(q(b, 0.99) / q(a, 0.99)).toFixed(2)}x`);
const peaks = memory.peaks();
console.log(`peak RSS ${(peaks.rssPeak / 2 ** 20).toFixed(0)} MiB, peak heap ${(peaks.heapUsedPeak / 2 ** 20).toFixed(0)} MiB`);
