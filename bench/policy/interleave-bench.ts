/**
 * Decision latency of two trees' evaluators interleaved in one process: this tree's `decide` and
 * the one of another checkout (`--before`, e.g. a `git worktree` of main), loaded from the same
 * generated sources and alternating passes over the same actions, so both see the same machine
 * load. Every decision of the two is serialized and must be the same string (the run fails if not).
 * @example
 * npx tsx bench/policy/interleave-bench.ts --before ../wt-before --sizes 100,1000,10000,100000
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Action, Decision } from '../../src/domain/index.js';
import type { PolicySource } from '../../src/policy/index.js';
import * as after from '../../src/policy/index.js';
import { summarizeLatencies } from '../support/stats.js';
import { toWardenAction, toWardenSources } from './warden-engine.js';
import { generateWorkload } from './workload.js';

type PolicyModule = Pick<typeof after, 'decide' | 'loadPolicySources'>;
type Decider = (a: Action) => Decision;

const NOW = new Date('2026-11-23T12:00:00Z');
const WARMUP_PASSES = 3;

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    sizes: { type: 'string', default: '100,1000,10000,100000' },
    samples: { type: 'string', default: '2000' },
    passes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '42' },
  },
});
if (values.before === undefined) throw new Error('--before <checkout> is required');
const before = (await import(resolve(values.before, 'src/policy/index.ts'))) as PolicyModule;

function decider(m: PolicyModule, sources: readonly PolicySource[]): { decide: Decider; loadMs: number } {
  const t0 = performance.now();
  const { set } = m.loadPolicySources(sources);
  const loadMs = performance.now() - t0;
  if (!set) throw new Error('the generated set did not load');
  return { decide: (a) => m.decide(set, a, { now: NOW }), loadMs };
}

/** One pass over the actions, each call timed on its own, into `out` from `at`. */
function pass(decide: Decider, actions: readonly Action[], out: Float64Array, at: number): void {
  for (let i = 0; i < actions.length; i++) {
    const t0 = performance.now();
    decide(actions[i]!);
    out[at + i] = (performance.now() - t0) * 1000;
  }
}

const f = (n: number) => n.toFixed(2);
console.log(`load average at start: ${loadavg().map(f).join(' ')}`);
console.log('| rules | load s before / after | p50 µs before / after | p99 µs before / after | mean µs before / after | decisions compared |');
console.log('| --- | --- | --- | --- | --- | --- |');
const p99At: { b: number; a: number }[] = [];
for (const size of values.sizes.split(',').map(Number)) {
  const w = generateWorkload(size, Number(values.seed), Number(values.samples));
  const sources = toWardenSources(w.set);
  const actions = w.actions.map(toWardenAction);
  const b = decider(before, sources);
  const a = decider(after, sources);
  for (const action of actions) {
    const x = JSON.stringify(b.decide(action));
    const y = JSON.stringify(a.decide(action));
    if (x !== y) throw new Error(`decisions differ at ${size} rules on ${JSON.stringify(action)}:\nbefore ${x}\nafter  ${y}`);
  }
  const passes = Number(values.passes);
  const tb = new Float64Array(passes * actions.length);
  const ta = new Float64Array(passes * actions.length);
  // Warm-up, both, untimed (the timed passes overwrite it).
  for (let p = 0; p < WARMUP_PASSES; p++) {
    pass(b.decide, actions, tb, 0);
    pass(a.decide, actions, ta, 0);
  }
  for (let p = 0; p < passes; p++) {
    // Alternate which goes first, so neither always runs on the other's cache.
    if (p % 2 === 0) {
      pass(b.decide, actions, tb, p * actions.length);
      pass(a.decide, actions, ta, p * actions.length);
    } else {
      pass(a.decide, actions, ta, p * actions.length);
      pass(b.decide, actions, tb, p * actions.length);
    }
  }
  const sb = summarizeLatencies(tb);
  const sa = summarizeLatencies(ta);
  p99At.push({ b: sb.p99Us, a: sa.p99Us });
  console.log(
    `| ${size.toLocaleString('en')} | ${f(b.loadMs / 1000)} / ${f(a.loadMs / 1000)} | ${f(sb.p50Us)} / ${f(sa.p50Us)} | ${f(sb.p99Us)} / ${f(sa.p99Us)} | ${f(sb.meanUs)} / ${f(sa.meanUs)} | ${actions.length} |`,
  );
}
const first = p99At[0]!;
console.log(`p99 / p99 at the first size, before: ${p99At.map((p) => f(p.b / first.b)).join(' / ')}; after: ${p99At.map((p) => f(p.a / first.a)).join(' / ')}`);
console.log(`load average at end: ${loadavg().map(f).join(' ')}`);
