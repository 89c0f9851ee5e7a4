// Abuse rules through the engine (issue 15, "Performance"), in one run:
//   1. events/s through 100 asynchronous rules (a mix: most filter by `match.tools` or event type, half
//      declare 1-2 velocity features) on `tool.call.decided` events from 1000 agents and 50 tools, with
//      the memory velocity store and with Redis; few hits, plus a variant where 1% of events hit;
//   2. the latency `screen` adds with 10 synchronous rules (features, `text.re2Matches` patterns)
//      against the same call with 0 rules (the anchor: the cached labels/mitigations lookup only);
//   3. heap and RSS per 100k tracked entities (one count feature);
//   4. Osprey's published 2.3 M rule evaluations/s over a cluster beside ours per core (not measured here).
// Labels and mitigations are in-memory port doubles (Maps) and the audit sink is a no-op, so the
// figures are the engine's, the rules' and the velocity store's, not a database's.
//   npm run bench -- abuse
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAbuseEngine, type AbuseEngine } from '../../src/abuse/engine.js';
import { observedFromEvent } from '../../src/abuse/observed.js';
import type { LabelStore, MitigationStore } from '../../src/abuse/ports.js';
import { loadAbuseSources, type AbuseRuleSet } from '../../src/abuse/rule-compile.js';
import { ruleReads, type VelocityPort } from '../../src/abuse/rule-run.js';
import { createVerdicts } from '../../src/abuse/verdicts.js';
import { connectRedisVelocity, createMemoryVelocity, type VelocityStore } from '../../src/abuse/index.js';
import { newAuditEvent, type Action, type AuditEvent, type EntityRef, type Label, type Mitigation } from '../../src/domain/index.js';
import { benchRedis } from '../support/redis.js';
import { createMemoryTracker } from '../support/memory.js';
import { summarizeLatencies } from '../support/stats.js';

const OSPREY_RULES_PER_S = 2_300_000;
const AGENTS = 1000;
const PRINCIPALS = 100;
const SERVERS = ['github', 'slack', 'shell', 'fs', 'http'];
const TOOLS = SERVERS.flatMap((s) => ['create', 'list', 'get', 'update', 'delete'].flatMap((v) => [`${s}.${v}_item`, `${s}.${v}_file`]));
const T0 = Date.parse('2026-12-07T10:00:00Z');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// ---- port doubles: Maps keyed by entity, so a lookup costs what a cache hit would ----
const entityKey = (t: string, e: EntityRef) => `${t}\u0001${e.kind}\u0001${e.id}`;
function doubles() {
  const labels = new Map<string, Label[]>();
  const mitigations = new Map<string, Mitigation[]>();
  const labelStore: LabelStore = {
    add: async (l) => {
      const k = entityKey(l.tenantId, l.entity);
      labels.set(k, [...(labels.get(k) ?? []).filter((x) => x.name !== l.name), l]);
    },
    remove: async () => false,
    live: async (t, es) => es.flatMap((e) => labels.get(entityKey(t, e)) ?? []),
    anyLive: async () => labels.size > 0,
    list: async () => [],
  };
  const mitigationStore: MitigationStore = {
    add: async (m) => void mitigations.set(entityKey(m.tenantId, m.entity), [...(mitigations.get(entityKey(m.tenantId, m.entity)) ?? []), m]),
    live: async (t, es) => es.flatMap((e) => mitigations.get(entityKey(t, e)) ?? []),
    anyLive: async () => mitigations.size > 0,
    get: async () => undefined,
    lift: async () => undefined,
    killsSince: async () => [],
    list: async () => [],
  };
  return { labelStore, mitigationStore };
}

function engineOver(set: AbuseRuleSet, velocity: VelocityPort, factsTtlMs?: number): AbuseEngine {
  const { labelStore, mitigationStore } = doubles();
  const clock = { now: () => new Date() };
  const engine: AbuseEngine = createAbuseEngine({
    rules: () => set,
    velocity,
    labels: labelStore,
    mitigations: mitigationStore,
    clock,
    ...(factsTtlMs !== undefined ? { factsTtlMs } : {}),
    verdicts: createVerdicts({
      labels: labelStore,
      mitigations: mitigationStore,
      cases: () => ({ open: async () => { throw new Error('no review verdicts in this bench'); } }),
      agents: { setStatus: async () => {} },
      audit: { append: async () => {} },
      clock,
      onKill: () => {},
      forget: (t, es) => engine.forget(t, es),
    }),
    logger: { warn: (o, m) => console.warn(m, o), error: (o, m) => console.error(m, o) },
  });
  return engine;
}

function ruleSet(docs: string[]): AbuseRuleSet {
  const r = loadAbuseSources([{ file: 'bench.yaml', text: docs.join('---\n') }]);
  if (!r.set) throw new Error(r.diagnostics.map((d) => `${d.span.line}:${d.span.col} ${d.message}`).join('\n'));
  return r.set;
}

const rule = (name: string, spec: string) => `apiVersion: warden.dev/v1\nkind: AbuseRule\nmetadata: { name: ${name} }\nspec:\n  mode: enforce\n  category: bench\n${spec}\n  verdicts: [{ label: { name: flagged, for: 1h } }]\n  reason: bench rule ${name}\n`;

// ---- 1. 100 asynchronous rules ----
const GLOBS = ['github.create_*', 'shell.*', '*.delete_*', 'fs.get_file', 'http.*', 'slack.list_*', '*.update_item', 'github.*_file'];
const KINDS = ['count', 'distinct', 'rate'] as const;
const ENTITIES = ['agent', 'principal', 'tool'] as const;
const WINDOWS = ['1m', '10m', '1h'];
const OF = ['tool.name', 'tool.server + "." + tool.name', 'principal.id'];

/** Rule r of 100: r%10 0-5 filter by a tools glob, 6-7 read another event type (never this one), 8-9 read every decision; even rules have 1-2 features. */
function asyncRules(hitting: boolean): string[] {
  const docs: string[] = [];
  for (let r = 0; r < 99; r++) {
    const lines: string[] = [];
    const slot = r % 10;
    if (slot <= 5) lines.push(`  match: { tools: ["${GLOBS[r % GLOBS.length]}"] }`);
    else if (slot <= 7) lines.push(`  on: ["${slot === 6 ? 'resource.read.decided' : 'session.*'}"]`);
    const nf = r % 2 === 0 ? 1 + ((r >> 1) % 2) : 0;
    if (nf > 0) {
      lines.push('  features:');
      for (let f = 0; f < nf; f++) {
        const kind = KINDS[(r + f) % 3]!;
        const entity = ENTITIES[(r + 2 * f) % 3]!;
        const window = WINDOWS[(r + f) % 3]!;
        lines.push(kind === 'distinct' ? `    f${f}: { distinct: ${entity}, of: '${OF[r % 3]}', window: ${window} }` : `    f${f}: { ${kind}: ${entity}, window: ${window} }`);
      }
    }
    const when = nf > 0 ? [`features.f0 > 1000000 && "x" in agent.labels`, `"watch" in principal.labels || features.f0 > 1000000`, nf > 1 ? `features.f0 > 1000000 && features.f1 > 3` : `features.f0 > 1000000`][r % 3]! : [`"blocked" in agent.labels && tool.name == "delete_item"`, `effect == "deny" && size(findings) > 3`, `event.outcome == "failure" && "x" in session.labels`][r % 3]!;
    lines.push(`  when: '${when}'`);
    docs.push(rule(`r${r}`, lines.join('\n')));
  }
  // The 100th reads every decision and hits on the 1% that were denied, in the hit variant only.
  // No cooldown: the denials fall on 10 agents, and a cooldown would make all but their first quiet.
  docs.push(rule('r99', `  cooldown: 0s\n  when: '${hitting ? 'effect == "deny"' : 'effect == "deny" && "never" in agent.labels'}'`));
  return docs;
}

/** Decision events of 1000 agents (each acting for one of 100 principals) over 50 tools, one per simulated ms; 1 in 100 denied. */
function decisions(n: number, from: number): AuditEvent[] {
  const out = new Array<AuditEvent>(n);
  for (let j = 0; j < n; j++) {
    const i = from + j;
    const a = (i * 7919) % AGENTS;
    const tool = TOOLS[(i * 31 + (i >> 7)) % TOOLS.length]!;
    const [server, name] = tool.split('.') as [string, string];
    const at = new Date(T0 + i);
    out[j] = newAuditEvent(
      {
        tenantId: 'acme',
        scope: 'acme/web',
        category: 'decision',
        type: 'tool.call.decided',
        outcome: 'success',
        actor: { type: 'agent', id: `agent-${a}`, sessionId: `s-${a}` },
        agent: { id: `agent-${a}` },
        onBehalfOf: { id: `user-${a % PRINCIPALS}`, type: 'user' },
        target: { kind: 'tool', server, name },
        action: { kind: 'tool.call' },
        decision: { effect: i % 100 === 37 ? 'deny' : 'allow', reasons: [], warnings: [], findings: [], obligations: [] },
        payload: { argsDigest: 'sha256:00' },
        latencyMs: 0.4,
      },
      at,
    );
  }
  return out;
}

interface Throughput {
  eventsPerS: number;
  n: number;
}

/** Feeds `events` in batches of 500 (as commits arrive), waiting for the rules between batches. */
async function drive(engine: AbuseEngine, events: AuditEvent[]): Promise<Throughput> {
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += 500) {
    engine.observe(events.slice(i, i + 500));
    await engine.idle();
  }
  return { eventsPerS: events.length / ((performance.now() - t0) / 1000), n: events.length };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const m = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);

const tracker = createMemoryTracker();

// ---- 3. memory per 100k tracked entities (first, on a fresh heap) ----
{
  const one = ruleSet([rule('per-agent', `  features:\n    n: { count: agent, window: 1h }\n  when: 'features.n > 1000000'`)]);
  gc();
  const before = process.memoryUsage();
  const store = createMemoryVelocity();
  const engine = engineOver(one, store);
  for (let i = 0; i < 100_000; i += 1_000) {
    const batch = decisions(1_000, 0).map((e, j) => ({ ...e, agent: { id: `entity-${i + j}` }, actor: { ...e.actor, id: `entity-${i + j}`, sessionId: `s-${i + j}` }, time: new Date(T0 + i + j).toISOString() }));
    engine.observe(batch);
    await engine.idle();
  }
  gc();
  const after = process.memoryUsage();
  console.log(`memory, ${store.size()} entities tracked (1 rule, count per agent): heap +${mib(after.heapUsed - before.heapUsed)}, RSS +${mib(after.rss - before.rss)} per 100k entities (engine and store: includes the facts cache, at most 50k entries)`);
  tracker.sample();
  await store.close();
}

const quiet = ruleSet(asyncRules(false));
const hitting = ruleSet(asyncRules(true));
// How many rules read an event (pass tenant, type and tools filters) and how many velocity reads that makes.
const sample = decisions(2_000, 0).map(observedFromEvent);
let readRules = 0;
let reads = 0;
let featureRules = 0;
for (const o of sample) {
  for (const r of quiet.asynchronous) {
    if (!ruleReads(r, o)) continue;
    readRules++;
    reads += r.features.length;
    if (r.features.length > 0) featureRules++;
  }
}
const featureRulesPerEvent = featureRules / sample.length;
const rulesPerEvent = readRules / sample.length;
const readsPerEvent = reads / sample.length;
console.log(`${quiet.asynchronous.length} asynchronous rules, ${quiet.asynchronous.filter((r) => r.features.length > 0).length} with features; per event ${rulesPerEvent.toFixed(1)} rules read it (the rest filtered by type or tool) and ${readsPerEvent.toFixed(1)} velocity reads; ${AGENTS} agents, ${PRINCIPALS} principals, ${TOOLS.length} tools`);
console.log(`labels/mitigations: in-memory port doubles; audit sink: no-op; Osprey (Discord): 2.3 M rule evaluations/s published for a whole cluster, not measured here`);

function throughputLine(label: string, r: Throughput, hits: number) {
  const evals = r.eventsPerS * rulesPerEvent;
  console.log(`${label.padEnd(30)} ${m(r.eventsPerS).padStart(8)} events/s  ${m(evals).padStart(8)} rule evals/s (${rulesPerEvent.toFixed(1)} per event; ${m(r.eventsPerS * 100).padStart(8)} counting all 100)  ${m(r.eventsPerS * readsPerEvent).padStart(8)} velocity reads/s  hits ${hits}  [${r.n} events]`);
  return evals;
}

let memoryEvals = 0;
{
  const warm = decisions(5_000, 0);
  const timed = decisions(40_000, 5_000);
  for (const [label, set] of [['memory, quiet (≈0 hits)', quiet], ['memory, 1% of events hit', hitting]] as const) {
    const store = createMemoryVelocity();
    const engine = engineOver(set, store);
    await drive(engine, warm);
    const before = engine.stats().hits;
    const r = await drive(engine, timed);
    const s = engine.stats();
    tracker.sample();
    const evals = throughputLine(label, r, s.hits - before);
    if (set === quiet) memoryEvals = evals;
    if (s.dropped + s.errors + s.failures > 0) console.log(`  dropped ${s.dropped}, errors ${s.errors}, failures ${s.failures}`);
    console.log(`  velocity keys tracked: ${store.size()}`);
    await store.close();
  }
  console.log(`per core: ${m(memoryEvals)} rule evaluations/s (rules that read the event) vs Osprey's 2.3 M/s for its whole cluster (${(OSPREY_RULES_PER_S / memoryEvals).toFixed(1)} of our cores' worth)`);
}

// ---- 2. synchronous rules on screen ----
const MINER = String.raw`(?i)\b(?:xmrig(?:-cuda|-opencl)?|xmr-stak|cpuminer(?:-multi|-opt)?|minerd|cgminer|bfgminer|ethminer|nbminer|t-rex|lolminer|srbminer|kdevtmpfsi|kinsing)\b`;
const SYNC = [
  rule('s-miner', `  synchronous: true\n  when: 'text.re2Matches("${MINER.replaceAll('\\', '\\\\')}")'`),
  rule('s-stratum', `  synchronous: true\n  when: 'text.re2Matches("(?i)\\\\bstratum2?\\\\+(?:tcp|ssl|tls)://")'`),
  rule('s-pool', `  synchronous: true\n  when: 'text.re2Matches("(?i)\\\\b(?:minexmr|nanopool|supportxmr|hashvault|2miners)\\\\.(?:com|org|pro)\\\\b")'`),
  rule('s-curl-sh', `  synchronous: true\n  match: { tools: ["shell.*"] }\n  when: 'text.re2Matches("(?i)\\\\bcurl\\\\b[^|]*\\\\|\\\\s*(?:ba)?sh\\\\b")'`),
  rule('s-burst', `  synchronous: true\n  features:\n    calls: { count: agent, window: 1m }\n  when: 'features.calls > 1000000'`),
  rule('s-fan-out', `  synchronous: true\n  features:\n    tools: { distinct: agent, of: 'tool.name', window: 10m }\n  when: 'features.tools > 1000 && "x" in agent.labels'`),
  rule('s-principal-rate', `  synchronous: true\n  features:\n    r: { rate: principal, window: 1m }\n  when: '"watch" in principal.labels || features.r > 100000'`),
  rule('s-shell-burst', `  synchronous: true\n  match: { tools: ["shell.*"] }\n  features:\n    n: { count: tool, window: 1m }\n  when: 'features.n > 100000000'`),
  rule('s-quarantined', `  synchronous: true\n  when: '"quarantined" in agent.labels'`),
  rule('s-big-args', `  synchronous: true\n  when: 'size(text) > 60000 && text.re2Matches("(?i)base64")'`),
];
const syncSet = ruleSet(SYNC);
const none = ruleSet([]);
const COMMANDS = ['ls -la /srv/app/releases', 'git status --porcelain && git log -n 5 --oneline', 'npm test -- --grep "velocity store"', 'cat /etc/os-release | head -n 3', 'docker ps --format "{{.Names}}"', 'python3 -m pip install -r requirements.txt', 'curl -s https://api.example.com/v1/health', 'find . -name "*.ts" -newer package.json | wc -l'];
const actionOf = (i: number): Action => {
  const a = (i * 7919) % AGENTS;
  return { kind: 'tool.call', scope: 'acme/ci', agent: { id: `agent-${a}` }, principal: { id: `user-${a % PRINCIPALS}`, type: 'user' }, tool: { server: i % 4 === 0 ? 'fs' : 'shell', name: i % 4 === 0 ? 'read_file' : 'exec' }, args: { command: `${COMMANDS[i % COMMANDS.length]} # run ${i}`, cwd: `/home/runner/work/${a}` } };
};

/** Latencies of `n` screens in µs, after `warm` untimed. */
async function screens(engine: AbuseEngine, n: number, from: number): Promise<Float64Array> {
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const input = { tenantId: 'acme', action: actionOf(from + i), sessionId: `s-${(from + i) % AGENTS}`, findings: [] };
    const t0 = performance.now();
    const r = await engine.screen(input);
    lat[i] = (performance.now() - t0) * 1000;
    if (r.refusal) throw new Error(`unexpected refusal: ${r.refusal.message}`);
  }
  return lat;
}

function latencyLine(label: string, lat: Float64Array, anchor?: { p50Us: number; p99Us: number }) {
  const s = summarizeLatencies(lat);
  const vs = anchor ? `  added p50 ${(s.p50Us - anchor.p50Us).toFixed(1)} µs, p99 ${(s.p99Us - anchor.p99Us).toFixed(1)} µs (${(s.p50Us / anchor.p50Us).toFixed(2)}x / ${(s.p99Us / anchor.p99Us).toFixed(2)}x)` : '';
  console.log(`${label.padEnd(34)} p50 ${s.p50Us.toFixed(1).padStart(7)} µs  p99 ${s.p99Us.toFixed(1).padStart(7)} µs  [${s.count}]${vs}`);
  return s;
}

let anchorScreen: { p50Us: number; p99Us: number };
{
  // Facts are kept 60 s here so every screen after the warm-up reads them from memory (the anchor's cost is the cached lookup).
  const anchorEngine = engineOver(none, createMemoryVelocity(), 60_000);
  const rulesEngine = engineOver(syncSet, createMemoryVelocity(), 60_000);
  await screens(anchorEngine, 3_000, 0);
  await screens(rulesEngine, 3_000, 0);
  // Interleaved rounds, so load on the machine falls on both alike.
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 4; round++) {
    a.push(...(await screens(anchorEngine, 5_000, 3_000 + round * 5_000)));
    b.push(...(await screens(rulesEngine, 5_000, 3_000 + round * 5_000)));
  }
  tracker.sample();
  console.log(`screen: ${syncSet.synchronous.length} synchronous rules (4 re2 patterns on the arguments' text, 4 with a velocity feature) vs 0 rules; ${AGENTS} agents; memory velocity`);
  anchorScreen = latencyLine('  anchor: 0 rules (cached facts)', Float64Array.from(a));
  latencyLine('  10 synchronous rules, memory', Float64Array.from(b), anchorScreen);
}

// ---- Redis: the same, over a private redis-server ----
{
  const redisServer = await benchRedis();
  const url = redisServer.url;
  const stores: VelocityStore[] = [];
  const redis = () => {
    const s = connectRedisVelocity(url, { prefix: `warden:rbench:${process.pid}:`, timeoutMs: 5_000 });
    stores.push(s);
    return s;
  };
  try {
    const engine = engineOver(quiet, redis());
    await drive(engine, decisions(1_000, 0));
    const r = await drive(engine, decisions(5_000, 1_000));
    const s = engine.stats();
    throughputLine('redis, quiet (≈0 hits)', r, s.hits);
    if (s.dropped + s.errors + s.failures > 0) console.log(`  dropped ${s.dropped}, errors ${s.errors}, failures ${s.failures}`);
    console.log(`  one Redis round trip per event for the features of all ${featureRulesPerEvent.toFixed(1)} rules with features that read it, one event at a time`);
    const screenEngine = engineOver(syncSet, redis(), 60_000);
    await screens(screenEngine, 500, 0);
    latencyLine('  10 synchronous rules, redis', await screens(screenEngine, 3_000, 500), anchorScreen);
    tracker.sample();
  } finally {
    for (const s of stores) await s.close();
    await redisServer.stop();
  }
}

const peaks = tracker.peaks();
console.log(`peak RSS ${mib(peaks.rssPeak)}, peak heap ${mib(peaks.heapUsedPeak)} (whole run)`);
process.exit(0);
