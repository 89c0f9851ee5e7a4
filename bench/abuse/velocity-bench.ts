// Velocity features of abuse rules (issue 15 item 2): events/s through 100 rules of 2 features each
// (200 reads per observe), p50/p99 per observe, memory per 100k tracked keys, for the memory store and
// the Redis store (a private redis-server, or the shared 127.0.0.1:6379 when none can be started).
// The anchor is Osprey's published figure, 2.3 M rule evaluations/s over Discord's cluster (InfoQ,
// 2026-03, "Discord Open Sources Osprey Safety Rules Engine Processing 2.3 Million Rules per Second"):
// a cluster figure for whole rules, not measured here. Ours is the velocity part of a rule, per core.
//   npm run bench -- velocity
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { connectRedisVelocity, createMemoryVelocity, type VelocityRead, type VelocityStore } from '../../src/abuse/index.js';
import { benchRedis } from '../support/redis.js';
import { createMemoryTracker } from '../support/memory.js';
import { summarizeLatencies } from '../support/stats.js';

const OSPREY_RULES_PER_S = 2_300_000;
const RULES = 100;
// 400 agents x 200 features = 80k keys: all fit under the default maxKeys (100k), as a sized store would.
const AGENTS = 400;
const REPOS = 50;
const T0 = 1_700_000_000_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// Rule r has two features on the acting agent: even rules count(agent, 1m) and distinct(agent,
// args.repo, 10m); odd rules rate(agent, 1m) and count(agent, 10m). A quarter of the reads are distinct.
// The keys are built per event, as the rule engine does.
function readsOf(event: number): VelocityRead[] {
  const agent = `agent-${(event * 7919) % AGENTS}`;
  const repo = `org/repo-${(event * 31) % REPOS}`;
  const reads = new Array<VelocityRead>(RULES * 2);
  for (let r = 0; r < RULES; r++) {
    const base = `t1\u0000rule-${r}\u0000`;
    if (r % 2 === 0) {
      reads[r * 2] = { key: `${base}count(agent,1m)\u0000${agent}`, kind: 'count', windowMs: 60_000 };
      reads[r * 2 + 1] = { key: `${base}distinct(agent,args.repo,10m)\u0000${agent}`, kind: 'distinct', windowMs: 600_000, member: repo };
    } else {
      reads[r * 2] = { key: `${base}rate(agent,1m)\u0000${agent}`, kind: 'rate', windowMs: 60_000 };
      reads[r * 2 + 1] = { key: `${base}count(agent,10m)\u0000${agent}`, kind: 'count', windowMs: 600_000 };
    }
  }
  return reads;
}

interface Run {
  eventsPerS: number;
  p50Us: number;
  p99Us: number;
}

/** `events` observes, `inFlight` at a time, one event a millisecond of simulated time. */
async function drive(store: VelocityStore, events: number, inFlight: number, from: number): Promise<Run> {
  const lat = new Float64Array(events);
  let next = 0;
  const worker = async () => {
    while (next < events) {
      const i = next++;
      const reads = readsOf(from + i);
      const t0 = performance.now();
      await store.observe(reads, T0 + from + i);
      lat[i] = (performance.now() - t0) * 1000;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const s = summarizeLatencies(lat);
  return { eventsPerS: events / ((performance.now() - t0) / 1000), p50Us: s.p50Us, p99Us: s.p99Us };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const m = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
function line(label: string, r: Run) {
  const rules = r.eventsPerS * RULES;
  console.log(
    `${label.padEnd(28)} ${m(r.eventsPerS).padStart(9)} events/s  ${m(r.eventsPerS * RULES * 2).padStart(9)} reads/s  ${m(rules).padStart(9)} rule evals/s (${((rules / OSPREY_RULES_PER_S) * 100).toFixed(1)}% of Osprey's cluster)  p50 ${r.p50Us.toFixed(0)} µs  p99 ${r.p99Us.toFixed(0)} µs per observe`,
  );
}

const tracker = createMemoryTracker();
console.log(`${RULES} rules x 2 features = ${RULES * 2} reads per observe (1/4 distinct); ${AGENTS} agents, ${REPOS} repos; one event per simulated ms`);
console.log(`anchor: Osprey (Discord), 2.3 M rule evaluations/s — published figure for a whole cluster, not measured here`);

// Memory: what 100k tracked keys cost (500 agents x 200 features), measured on a fresh store after a GC.
{
  gc();
  const before = process.memoryUsage();
  const store = createMemoryVelocity();
  for (let i = 0; i < 500; i++) {
    const agent = `agent-${i}`;
    await store.observe(readsOf(0).map((r) => ({ ...r, key: r.key.replace('agent-0', agent) })), T0 + i);
  }
  gc();
  const after = process.memoryUsage();
  console.log(`memory store, ${store.size()} keys tracked: heap +${mib(after.heapUsed - before.heapUsed)}, RSS +${mib(after.rss - before.rss)} per 100k keys`);
  await store.close();
}

// Memory store: warm up, then timed.
{
  const store = createMemoryVelocity();
  await drive(store, 5_000, 1, 0);
  const r = await drive(store, 50_000, 1, 5_000);
  tracker.sample();
  line('memory, one core', r);
  console.log(`  per core: ${m(r.eventsPerS * RULES)} velocity rule evaluations/s here vs 2.3 M/s published for Osprey's whole cluster (${(OSPREY_RULES_PER_S / (r.eventsPerS * RULES)).toFixed(2)} of our cores' worth)`);
  console.log(`  keys tracked: ${store.size()}`);
  await store.close();
}

// The target (> 1 M count reads/s on one core) is for the store alone: count reads whose key
// strings already exist (the rule engine's to cache). Above, each event builds 200 fresh key strings and
// V8 hashes each on its first Map lookup, which costs more than the store's own work.
{
  const store = createMemoryVelocity();
  const batches = Array.from({ length: AGENTS }, (_, a) => readsOf(a).map((r, j) => ({ key: r.key, kind: 'count' as const, windowMs: j % 2 === 0 ? 60_000 : 600_000 })));
  for (let i = 0; i < 2_000; i++) await store.observe(batches[i % AGENTS]!, T0 + i);
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.observe(batches[i % AGENTS]!, T0 + 2_000 + i);
  console.log(`memory, count reads on known key strings: ${m((n * RULES * 2) / ((performance.now() - t0) / 1000))} reads/s (target > 1 M/s per core)`);
  await store.close();
}

// Redis store: a private server when one can be started, else the shared one on 6379.
{
  const redisServer = await benchRedis();
  const url = redisServer.url;
  const prefix = `warden:vbench:${process.pid}:`;
  const admin = new Redis(url);
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
  const store = connectRedisVelocity(url, { prefix, timeoutMs: 5_000 });
  try {
    const before = await usedMemory();
    for (let i = 0; i < 500; i++) {
      const agent = `agent-${i}`;
      await store.observe(readsOf(0).map((r) => ({ ...r, key: r.key.replace('agent-0', agent) })), T0 + i);
    }
    console.log(`redis store, 100k keys: used_memory +${mib((await usedMemory()) - before)} per 100k keys (in Redis)`);
    await drive(store, 300, 1, 0);
    line('redis, 1 in flight', await drive(store, 2_000, 1, 300));
    await admin.config('RESETSTAT');
    line('redis, 8 in flight', await drive(store, 4_000, 8, 2_300));
    const stats = await admin.info('commandstats');
    const perCall = /cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(stats);
    if (perCall) console.log(`  inside Redis: ${Number(perCall[2]).toFixed(0)} µs of script per observe (${perCall[1]} calls); the rest is the client, the wire and waiting for a core`);
    tracker.sample();
  } finally {
    await store.close();
    if (!redisServer.shared) await redisServer.stop();
    else {
      // Leave the shared server as it was.
      for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 1000 })) if ((keys as string[]).length > 0) await admin.del(...(keys as string[]));
    }
    admin.disconnect();
  }
}

const peaks = tracker.peaks();
console.log(`peak RSS ${mib(peaks.rssPeak)}, peak heap ${mib(peaks.heapUsedPeak)} (whole run)`);
