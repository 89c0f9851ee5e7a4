// Where one gateway tool call spends its time: the gateway in this process (PGlite on disk, 1 000
// rules, audit on, Streamable HTTP edge) and SDK clients making `echo` calls; prints the median and
// p90 of each checkpoint stage, of the gateway's `callTool`, of the upstream round trip, and of the
// client's whole call. The client runs in the same process, so its costs show in `client.call`.
// With --audit-mode it runs the gateway in that mode; with --database-url on PostgreSQL instead of
// PGlite. It also reports the event loop's delay (monitorEventLoopDelay, 1 ms resolution) and
// utilization during the measured calls: how long the loop was held, by PGlite's commits or else.
// Run: npx tsx bench/gateway/profile.ts [--calls 2000] [--concurrency 1] [--rules 1000] [--audit-mode before-forward|before-respond] [--database-url URL]
// Profile: node --cpu-prof --cpu-prof-dir bench/.out/prof --import tsx bench/gateway/profile.ts
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { startGateway } from '../../src/main/index.js';
import { createHttpIdentity, isAuditMode, listenHttp } from '../../src/gateway/index.js';
import { benchPolicies } from './policies.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const TOKEN = 'bench-token-0123456789abcdef';
const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rules: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1' },
    'audit-mode': { type: 'string', default: 'before-forward' },
    'database-url': { type: 'string' },
  },
});
const MODE = values['audit-mode'];
if (!isAuditMode(MODE)) throw new Error(`--audit-mode: ${MODE}`);
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
// The SDK's HTTP client adds an abort listener per request to one long-lived signal; its warning is noise here.
process.removeAllListeners('warning');

// How long PGlite holds the event loop: its WASM runs synchronously inside execProtocolRawSync (an
// internal method of PGlite 0.5; when it is missing the figure is left out).
let pgliteMs = 0;
const pglite = PGlite.prototype as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>;
const rawSync = pglite.execProtocolRawSync;
if (rawSync) {
  pglite.execProtocolRawSync = function (this: unknown, ...a: unknown[]) {
    const t = performance.now();
    try {
      return rawSync.apply(this, a);
    } finally {
      if (measuring) pgliteMs += performance.now() - t;
    }
  };
}

const dir = mkdtempSync(join(tmpdir(), 'warden-gw-profile-'));
mkdirSync(join(dir, 'policies'));
writeFileSync(join(dir, 'policies', 'bench.yaml'), benchPolicies(Number(values.rules)));

const samples = new Map<string, number[]>();
const add = (k: string, ms: number) => {
  let s = samples.get(k);
  if (!s) samples.set(k, (s = []));
  s.push(ms);
};
let measuring = false;
const rt = await startGateway({
  policies: [join(dir, 'policies')],
  scope: 'acme/bench',
  // The bench agent's token seeds the identity store, as a gateway file's would.
  agentTokens: { source: 'bench', agents: [{ id: 'bench-agent', token: TOKEN }] },
  upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }],
  database: values['database-url'] ? { url: values['database-url'] } : { dataDir: join(dir, 'data') },
  auditMode: MODE,
  upstreamStderr: 'ignore',
  watchPolicies: false,
  logger: pino({ level: 'silent' }),
  onStage: (stage, ms) => measuring && add(`checkpoint.${stage}`, ms),
});
// Time the gateway's own work and the upstream round trip by wrapping them.
const gw = rt.gateway;
const callTool = gw.callTool.bind(gw);
gw.callTool = async (...args) => {
  const t = performance.now();
  const r = await callTool(...args);
  if (measuring) add('gateway.callTool', performance.now() - t);
  return r;
};
const upstream = gw.upstream('everything')!;
const upCall = upstream.callTool.bind(upstream);
upstream.callTool = async (...args) => {
  const t = performance.now();
  const r = await upCall(...args);
  if (measuring) add('upstream.callTool', performance.now() - t);
  return r;
};
const http = await listenHttp(gw, {
  identify: createHttpIdentity({ scope: 'acme/bench', policies: rt.policies, authenticate: (bearer) => rt.core.identity.authenticate(bearer) }),
  tokens: rt.core.identity,
});
const connect = async () => {
  const c = new Client({ name: 'profile', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  return c;
};
const clients = await Promise.all(Array.from({ length: CONCURRENCY }, connect));
for (let i = 0; i < 200; i++) await clients[0]!.callTool({ name: 'echo', arguments: { message: `w${i}` } });
measuring = true;
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const elu0 = performance.eventLoopUtilization();
const started = performance.now();
await Promise.all(
  clients.map(async (client) => {
    for (let i = 0; i < CALLS / CONCURRENCY; i++) {
      const t = performance.now();
      await client.callTool({ name: 'echo', arguments: { message: `m${i}` } });
      add('client.call', performance.now() - t);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
measuring = false;
loop.disable();
const elu = performance.eventLoopUtilization(elu0);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const at = (xs: number[], q: number) => sorted(xs)[Math.floor(xs.length * q)]!;
console.log(`${CALLS} calls over ${CONCURRENCY} session(s), audit mode ${MODE}, ${values['database-url'] ? 'PostgreSQL' : 'PGlite on disk'}: ${(CALLS / seconds).toFixed(0)} calls/s`);
// The histogram counts from its 1 ms timer's due time, so a delay below ~1 ms reads as 0.
const nsMs = (ns: number) => (ns / 1e6).toFixed(2);
if (rawSync && !values['database-url']) console.log(`PGlite held the loop  ${((pgliteMs / 1000 / seconds) * 100).toFixed(0)} % of the run, ${(pgliteMs / CALLS).toFixed(3)} ms per call`);
console.log(`event loop delay      p50 ${nsMs(loop.percentile(50))} ms  p99 ${nsMs(loop.percentile(99))} ms  max ${nsMs(loop.max)} ms; utilization ${(elu.utilization * 100).toFixed(0)} %`);
for (const [k, xs] of samples) console.log(`${k.padEnd(22)} p50 ${at(xs, 0.5).toFixed(3)} ms  p90 ${at(xs, 0.9).toFixed(3)} ms  (n=${xs.length})`);
await Promise.all(clients.map((c) => c.close()));
await http.close();
await rt.close();
