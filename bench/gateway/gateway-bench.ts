// Tool-call latency and throughput for one tool on one server: direct, through supergateway (a plain
// proxy), and through Warden (1 000 rules, audit on) in each audit mode asked for, all in one run;
// then peak memory with 100 sessions. Every target is started first and the latency calls are
// interleaved (call i goes to each target in turn, the order rotating), so a load swing on a shared
// machine hits every target alike. Throughput and memory are then measured target by target.
// Warden runs on PGlite (a data directory of its own per mode) or, with --pg ADMIN_URL, on a
// PostgreSQL database of its own per mode, created and dropped by the bench.
// Run: npx tsx bench/gateway/gateway-bench.ts [--calls 1000] [--concurrency 8] [--sessions 100]
//        [--audit-mode both|before-forward|before-respond] [--pg postgres://postgres@127.0.0.1:5432/postgres]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pg from 'pg';
import { AUDIT_MODES, isAuditMode, type AuditMode } from '../../src/gateway/audit-mode.js';
import { summarizeLatencies, type LatencySummary } from '../support/stats.js';
import { benchPolicies } from './policies.js';
import { descendants } from '../support/memory.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SUPERGATEWAY = join(ROOT, 'node_modules/supergateway/dist/index.js');
const TOKEN = 'bench-token-0123456789abcdef';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    sessions: { type: 'string', default: '100' },
    rules: { type: 'string', default: '1000' },
    'audit-mode': { type: 'string', default: 'both' },
    pg: { type: 'string' },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const SESSIONS = Number(values.sessions);
const RULES = Number(values.rules);
const MODES: AuditMode[] = values['audit-mode'] === 'both' ? [...AUDIT_MODES] : [values['audit-mode'] as AuditMode];
if (!MODES.every(isAuditMode)) throw new Error(`--audit-mode takes both, ${AUDIT_MODES.join(' or ')}`);
const PG = values.pg;
const STORE = PG ? 'PostgreSQL' : 'PGlite';

interface Target {
  name: string;
  connect(): Promise<Client>;
  pid?: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    // A cold start (tsx, PGlite initdb) takes over a minute on a loaded two-core machine.
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${text}`)), 240_000);
    const on = (b: Buffer) => {
      text += b.toString();
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${text}`)));
  });
}

const httpClient = (url: string, headers: Record<string, string> = {}) => async () => {
  const c = new Client({ name: 'bench', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return c;
};

async function direct(): Promise<Target> {
  const clients: Client[] = [];
  return {
    name: 'direct (stdio)',
    async connect() {
      const c = new Client({ name: 'bench', version: '1' });
      await c.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

async function supergateway(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [SUPERGATEWAY, '--stdio', `${process.execPath} ${EVERYTHING} stdio`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /Listening on port|listening/i, 'supergateway');
  return { name: 'supergateway (HTTP→stdio)', connect: httpClient(`http://127.0.0.1:${port}/mcp`), pid: child.pid!, close: async () => void child.kill() };
}

/** Runs one statement on the PostgreSQL admin database. */
async function pgAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function warden(mode: AuditMode) {
  return async (): Promise<Target> => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-gw-bench-'));
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'bench.yaml'), benchPolicies(RULES));
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `apiVersion: warden.dev/v1\nkind: Gateway\nspec:\n  scope: acme/bench\n  sessions: { maxPerAgent: 200 }\n  servers:\n    - { name: everything, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }\n  agents:\n    - { id: bench-agent, token: ${TOKEN} }\n`,
    );
    let store = ['--data-dir', join(dir, 'data')];
    let dropDatabase = async () => {};
    if (PG) {
      const name = `warden_gwbench_${process.pid}_${mode.replace('-', '_')}`;
      await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await pgAdmin(`CREATE DATABASE ${name}`);
      const url = new URL(PG);
      url.pathname = `/${name}`;
      store = ['--database-url', url.toString(), '--audit-key', join(dir, 'audit-key.pem')];
      dropDatabase = () => pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--http', '0', '--config', join(dir, 'gateway.yaml'), '--policies', join(dir, 'policies'), '--audit-mode', mode, ...store],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const url = await waitFor(child, /serving MCP at (http:\/\/\S+)/, 'warden gateway');
    return {
      name: `warden ${mode} (${STORE})`,
      connect: httpClient(url, { authorization: `Bearer ${TOKEN}` }),
      pid: child.pid!,
      async close() {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
        await dropDatabase();
      },
    };
  };
}

/** Resident memory of a process and its descendants (kB → bytes), from /proc. */
function treeRss(pid: number): { rss: number; hwm: number; processes: number } {
  let rss = 0;
  let hwm = 0;
  const all = [pid, ...descendants(pid)];
  for (const p of all) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      hwm += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      /* exited */
    }
  }
  return { rss, hwm, processes: all.length };
}

const call = (c: Client, i: number) => c.callTool({ name: 'echo', arguments: { message: `m${i}` } });

interface Measured {
  latency: LatencySummary;
  callsPerSec: number;
  memory?: { rss: number; hwm: number; processes: number };
}

/** Sequential calls, one session per target, interleaved across targets (the order rotates each round). */
async function latencies(targets: Target[]): Promise<LatencySummary[]> {
  const ones = await Promise.all(targets.map((t) => t.connect()));
  for (let i = 0; i < 100; i++) for (const c of ones) await call(c, i);
  const lat = targets.map(() => new Float64Array(CALLS));
  for (let i = 0; i < CALLS; i++) {
    for (let k = 0; k < targets.length; k++) {
      const j = (i + k) % targets.length;
      const t = performance.now();
      const r = await call(ones[j]!, i);
      lat[j]![i] = (performance.now() - t) * 1000;
      if (r.isError) throw new Error(`${targets[j]!.name}: call failed: ${JSON.stringify(r.content)}`);
    }
  }
  await Promise.all(ones.map((c) => c.close().catch(() => {})));
  return lat.map(summarizeLatencies);
}

/** Calls per second over CONCURRENCY sessions, then the process tree's memory with SESSIONS sessions open. */
async function load(target: Target): Promise<Pick<Measured, 'callsPerSec' | 'memory'>> {
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => target.connect()));
  const per = Math.ceil(CALLS / CONCURRENCY) * 2;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < per; i++) await call(c, i);
    }),
  );
  const callsPerSec = (per * CONCURRENCY) / ((performance.now() - t0) / 1000);
  let memory;
  if (target.pid !== undefined) {
    // Opened ten at a time: supergateway spawns a server per session, and a hundred spawns at once
    // on a loaded machine reset connections.
    const many: Client[] = [];
    try {
      for (let i = 0; i < SESSIONS; i += 10) many.push(...(await Promise.all(Array.from({ length: Math.min(10, SESSIONS - i) }, () => target.connect()))));
      await Promise.all(many.map((c, i) => call(c, i)));
      memory = treeRss(target.pid);
    } catch (err) {
      console.error(`${target.name}: memory with ${SESSIONS} sessions not measured: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await Promise.all(many.map((c) => c.close().catch(() => {})));
    }
  }
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  return { callsPerSec, ...(memory ? { memory } : {}) };
}

const ms = (us: number) => (us / 1000).toFixed(2);
const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
const targets: Target[] = [];
const results: Record<string, Measured> = {};
try {
  for (const make of [direct, supergateway, ...MODES.map(warden)]) targets.push(await make());
  const lat = await latencies(targets);
  for (const [j, target] of targets.entries()) results[target.name] = { latency: lat[j]!, ...(await load(target)) };
} finally {
  await Promise.all(targets.map((t) => t.close().catch(() => {})));
}
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(38)} p50 ${ms(r.latency.p50Us)} ms  p99 ${ms(r.latency.p99Us)} ms  ${r.callsPerSec.toFixed(0)} calls/s (${CONCURRENCY} sessions)` +
      (r.memory ? `  RSS with ${SESSIONS} sessions: ${mb(r.memory.rss)} MB over ${r.memory.processes} process(es), peak ${mb(r.memory.hwm)} MB` : ''),
  );
}
const [d, s] = [results[targets[0]!.name]!, results[targets[1]!.name]!];
console.log('');
for (const t of targets.slice(2)) {
  const w = results[t.name]!;
  console.log(`${t.name}: − supergateway p50 ${(w.latency.p50Us - s.latency.p50Us) / 1000 >= 0 ? '+' : ''}${((w.latency.p50Us - s.latency.p50Us) / 1000).toFixed(2)} ms; /supergateway p50 ×${(w.latency.p50Us / s.latency.p50Us).toFixed(2)} p99 ×${(w.latency.p99Us / s.latency.p99Us).toFixed(2)} calls/s ×${(w.callsPerSec / s.callsPerSec).toFixed(2)}; /direct p50 ×${(w.latency.p50Us / d.latency.p50Us).toFixed(2)}`);
}
if (targets.length === 4) {
  const [f, r] = [results[targets[2]!.name]!, results[targets[3]!.name]!];
  console.log(`before-respond/before-forward: p50 ×${(r.latency.p50Us / f.latency.p50Us).toFixed(2)}  p99 ×${(r.latency.p99Us / f.latency.p99Us).toFixed(2)}  calls/s ×${(r.callsPerSec / f.callsPerSec).toFixed(2)}`);
}
const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; /proc/loadavg before ${loadBefore}, after ${loadAfter}`);
mkdirSync(join(ROOT, 'bench/.out'), { recursive: true });
writeFileSync(join(ROOT, 'bench/.out/gateway.json'), JSON.stringify({ calls: CALLS, concurrency: CONCURRENCY, sessions: SESSIONS, rules: RULES, store: STORE, loadBefore, loadAfter, results }, null, 2));
