// Where one gateway tool call spends its time: the gateway in this process (PGlite on disk, 1 000
// rules, audit on, Streamable HTTP edge) and SDK clients making `echo` calls; prints the median and
// p90 of each checkpoint stage, of the gateway's `callTool`, of the upstream round trip, and of the
// client's whole call. The client runs in the same process, so its costs show in `client.call`.
// Run: npx tsx bench/gateway/profile.ts [--calls 2000] [--concurrency 1] [--rules 1000]
// Profile: node --cpu-prof --cpu-prof-dir bench/.out/prof --import tsx bench/gateway/profile.ts
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { startGateway } from '../../src/main/index.js';
import { createHttpIdentity, listenHttp } from '../../src/gateway/index.js';
import { benchPolicies } from './policies.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const TOKEN = 'bench-token-0123456789abcdef';
const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000' }, rules: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '1' } } });
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
// The SDK's HTTP client adds an abort listener per request to one long-lived signal; its warning is noise here.
process.removeAllListeners('warning');

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
  database: { dataDir: join(dir, 'data') },
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
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const at = (xs: number[], q: number) => sorted(xs)[Math.floor(xs.length * q)]!;
console.log(`${CALLS} calls over ${CONCURRENCY} session(s): ${(CALLS / seconds).toFixed(0)} calls/s`);
for (const [k, xs] of samples) console.log(`${k.padEnd(22)} p50 ${at(xs, 0.5).toFixed(3)} ms  p90 ${at(xs, 0.9).toFixed(3)} ms  (n=${xs.length})`);
await Promise.all(clients.map((c) => c.close()));
await http.close();
await rt.close();
