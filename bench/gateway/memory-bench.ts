// Where the gateway's memory goes with many sessions: starts `warden gateway` (as gateway-bench.ts
// does: 1 000 rules, audit on, one shared stdio upstream), opens sessions over Streamable HTTP with
// the MCP SDK client, one call each, and samples at 0, 1, 10, 50, 100 open sessions the RSS of the
// process tree (/proc) and, inside the gateway, V8's heap, external and array-buffer memory and the
// resident part of each WebAssembly memory (PGlite's database runs in one).
//
// Run: npx tsx bench/gateway/memory-bench.ts [--runtime tsx|node|both] [--store pglite|postgres|both]
//        [--steps 0,1,10,50,100] [--preload 3000] [--root <warden checkout>] [--pg-url postgres://…]
//   --runtime node runs the built CLI (`npm run build` first), as users run it; tsx runs the source,
//   as gateway-bench.ts does.
//   --preload N makes N calls over 9 sessions first, as gateway-bench.ts does before its memory probe
//   (its latency and throughput phases), so the audit log and the heap are where that bench has them.
//   --root measures another checkout (a "before" worktree) with this script.
//   --node-args="…" passes flags to the gateway's node (ops knobs such as --max-old-space-size=1024).
//   The last row, "ended", is sampled after every session was ended with DELETE.
//   --gc runs the gateway with --expose-gc and reports its heap after a full GC (a forced GC also
//   lowers the RSS of later samples, so leave it off for figures comparable with gateway-bench.ts).
//   --store postgres creates a fresh database per run on --pg-url's server and drops it afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { benchPolicies } from './policies.js';
import { descendants } from '../support/memory.js';

const HERE = join(import.meta.dirname, '..', '..');
const TOKEN = 'bench-token-0123456789abcdef';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'both' },
    store: { type: 'string', default: 'pglite' },
    steps: { type: 'string', default: '0,1,10,50,100' },
    preload: { type: 'string', default: '3000' },
    rules: { type: 'string', default: '1000' },
    root: { type: 'string', default: HERE },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    label: { type: 'string', default: '' },
    gc: { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
  },
});
const ROOT = resolve(values.root);
const STEPS = values.steps.split(',').map(Number);
const PRELOAD = Number(values.preload);
const RULES = Number(values.rules);
const runtimes = values.runtime === 'both' ? ['tsx', 'node'] : [values.runtime];
const stores = values.store === 'both' ? ['pglite', 'postgres'] : [values.store];
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/**
 * Loaded into the gateway with --import: it notes every WebAssembly memory made (PGlite's database
 * runs in one; re2-wasm has its own) and, on SIGUSR2, writes one line to stderr with V8's figures
 * (after a full GC as well when the gateway runs with --expose-gc) and the resident size of each
 * WebAssembly memory, found in /proc/self/smaps as the anonymous mapping of its size.
 */
const PROBE = `
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
const memories = [];
const note = (m) => { if (m instanceof Memory) memories.push(new WeakRef(m)); return m; };
const Memory = WebAssembly.Memory;
WebAssembly.Memory = new Proxy(Memory, { construct: (t, a) => note(Reflect.construct(t, a)) });
const exported = (instance) => { for (const v of Object.values(instance.exports)) note(v); return instance; };
const Instance = WebAssembly.Instance;
WebAssembly.Instance = new Proxy(Instance, { construct: (t, a) => exported(Reflect.construct(t, a)) });
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...a) => { const r = await instantiate(...a); exported(r.instance ?? r); return r; };
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiateStreaming = async (...a) => { const r = await instantiateStreaming(...a); exported(r.instance); return r; };
const maps = () => {
  const regions = [];
  let cur;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \\S+ \\S+ \\S+ \\S+\\s*(.*)$/.exec(line);
    if (m) { cur = { size: parseInt(m[2], 16) - parseInt(m[1], 16), name: m[3], rss: 0 }; regions.push(cur); continue; }
    const r = /^Rss:\\s+(\\d+) kB/.exec(line);
    if (r && cur) cur.rss = Number(r[1]) * 1024;
  }
  return regions;
};
const sample = () => {
  const mu = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  return { ...mu, spaces, code: v8.getHeapCodeStatistics() };
};
process.on('SIGUSR2', () => {
  const before = sample();
  const regions = maps();
  const live = memories.map((w) => w.deref()).filter(Boolean);
  const taken = new Set();
  const wasm = live.map((m) => {
    const size = m.buffer.byteLength;
    const i = regions.findIndex((r, j) => !taken.has(j) && r.name === '' && r.size >= size && r.size - size <= 2 ** 20);
    if (i >= 0) taken.add(i);
    return { size, rss: i >= 0 ? regions[i].rss : -1 };
  });
  const file = regions.filter((r) => r.name.startsWith('/')).reduce((a, r) => a + r.rss, 0);
  const mallocHeap = regions.filter((r) => r.name === '[heap]').reduce((a, r) => a + r.rss, 0);
  globalThis.gc?.();
  const after = sample();
  process.stderr.write('MEMPROBE ' + JSON.stringify({ before, after, wasm, file, mallocHeap }) + '\\n');
});
`;

type V8Sample = NodeJS.MemoryUsage & { spaces: Record<string, number>; code: { code_and_metadata_size: number; bytecode_and_metadata_size: number } };
interface Probe {
  before: V8Sample;
  /** After a full GC when the gateway runs with --expose-gc (--gc); else another sample. */
  after: V8Sample;
  wasm: { size: number; rss: number }[];
  /** Resident file-backed pages (node's own code, mapped libraries). */
  file: number;
  /** Resident pages of the C heap (brk). */
  mallocHeap: number;
}

interface Sample {
  sessions: number;
  tree: { rss: number; hwm: number; perProcess: { pid: number; name: string; rss: number }[] };
  probe: Probe;
}

function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${text}`)), 300_000);
    const on = (b: Buffer) => {
      text += b.toString();
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', on);
        child.stderr?.off('data', on);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${text}`)));
  });
}

function tree(pid: number): Sample['tree'] {
  let rss = 0;
  let hwm = 0;
  const perProcess: Sample['tree']['perProcess'] = [];
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const r = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      rss += r;
      hwm += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      perProcess.push({ pid: p, name: cmd.join(' '), rss: r });
    } catch {
      /* exited */
    }
  }
  return { rss, hwm, perProcess };
}

async function probe(child: ChildProcess): Promise<Probe> {
  let text = '';
  const line = new Promise<Probe>((resolve) => {
    const on = (b: Buffer) => {
      text += b.toString();
      const m = /MEMPROBE (\{.*\})\n/.exec(text);
      if (m) {
        child.stderr?.off('data', on);
        resolve(JSON.parse(m[1]!) as Probe);
      }
    };
    child.stderr?.on('data', on);
  });
  child.kill('SIGUSR2');
  return line;
}

let preloadCallsPerSec = 0;

/**
 * Runs `f` again once when the connection was reset: on a loaded machine a request can land on a
 * keep-alive connection the gateway is closing at that moment, which is not what is measured here.
 */
async function retried<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const text = `${String(err)} ${String((err as { cause?: unknown }).cause)}`;
    if (!/fetch failed|ECONNRESET|socket hang up/.test(text)) throw err;
    return f();
  }
}

async function run(runtime: string, store: string): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-mem-bench-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'bench.yaml'), benchPolicies(RULES));
  writeFileSync(
    join(dir, 'gateway.yaml'),
    `apiVersion: warden.dev/v1\nkind: Gateway\nspec:\n  scope: acme/bench\n  sessions: { maxPerAgent: 200 }\n  servers:\n    - { name: everything, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }\n  agents:\n    - { id: bench-agent, token: ${TOKEN} }\n`,
  );
  let dbName: string | undefined;
  let storeArgs = ['--data-dir', join(dir, 'data')];
  if (store === 'postgres') {
    dbName = `warden_mem_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: values['pg-url'] });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(values['pg-url']);
    url.pathname = `/${dbName}`;
    storeArgs = ['--database-url', url.toString()];
  }
  const entry = runtime === 'tsx' ? ['--import', 'tsx', 'src/cli/main.ts'] : ['bin/warden.js'];
  const child = spawn(
    process.execPath,
    [...(values.gc ? ['--expose-gc'] : []), ...values['node-args'].split(' ').filter(Boolean), '--import', `data:text/javascript,${encodeURIComponent(PROBE)}`, ...entry, 'gateway', '--http', '0', '--config', join(dir, 'gateway.yaml'), '--policies', join(dir, 'policies'), ...storeArgs],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const samples: Sample[] = [];
  const clients: { client: Client; transport: StreamableHTTPClientTransport }[] = [];
  try {
    const url = await waitFor(child, /serving MCP at (http:\/\/\S+)/, 'warden gateway');
    const connect = () => retried(async () => {
      const client = new Client({ name: 'bench', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
      await client.connect(transport);
      return { client, transport };
    });
    // A client's close() only drops its stream; DELETE ends the session on the gateway.
    const end = async (s: { client: Client; transport: StreamableHTTPClientTransport }) => {
      await s.transport.terminateSession().catch(() => {});
      await s.client.close().catch(() => {});
    };
    const call = async (c: Client, i: number) => {
      const r = await retried(() => c.callTool({ name: 'echo', arguments: { message: `m${i}` } }));
      if (r.isError) throw new Error(`call failed: ${JSON.stringify(r.content)}`);
    };
    // The first call waits for the core and the upstream; the 0-session sample is taken after it, session closed.
    const first = await connect();
    await call(first.client, 0);
    if (PRELOAD > 0) {
      const warm = [first, ...(await Promise.all(Array.from({ length: 8 }, connect)))];
      const per = Math.ceil(PRELOAD / warm.length);
      const t0 = performance.now();
      await Promise.all(warm.map(async (c) => {
        for (let i = 0; i < per; i++) await call(c.client, i);
      }));
      // A knob that saves memory may cost time: the preload's throughput is printed with the samples.
      preloadCallsPerSec = (per * warm.length) / ((performance.now() - t0) / 1000);
      await Promise.all(warm.slice(1).map(end));
    }
    await end(first);
    await new Promise((r) => setTimeout(r, 500));
    for (const n of STEPS) {
      const more = await Promise.all(Array.from({ length: n - clients.length }, connect));
      await Promise.all(more.map((c, i) => call(c.client, i)));
      clients.push(...more);
      await new Promise((r) => setTimeout(r, 300));
      samples.push({ sessions: n, tree: tree(child.pid!), probe: await probe(child) });
    }
    await Promise.all(clients.splice(0).map(end));
    await new Promise((r) => setTimeout(r, 500));
    samples.push({ sessions: -1, tree: tree(child.pid!), probe: await probe(child) });
  } finally {
    await Promise.all(clients.map((c) => c.client.close().catch(() => {})));
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (dbName) {
      const admin = new pg.Client({ connectionString: values['pg-url'] });
      await admin.connect();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
  }
  return samples;
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0).padStart(5);
const all: Record<string, { samples: Sample[]; preloadCallsPerSec: number }> = {};
console.log(`root ${ROOT}${values.label ? ` (${values.label})` : ''}; ${RULES} rules, ${PRELOAD} calls before the probe`);
for (const store of stores) {
  for (const runtime of runtimes) {
    const key = `${runtime}/${store}`;
    const samples = await run(runtime, store);
    all[key] = { samples, preloadCallsPerSec };
    console.log(`\n${key}, MB: tree = the gateway and its children (the upstream); then, inside the gateway: V8 heap used${values.gc ? ' (after a full GC)' : ''} and committed, external, array buffers, resident WebAssembly memories, the C heap, file-backed pages`);
    console.log('sessions   tree  gateway upstream   heap  (total)  external  arrbuf  wasm          malloc  file  peak(tree)');
    for (const s of samples) {
      const gw = s.tree.perProcess[0]!.rss;
      const up = s.tree.rss - gw;
      const p = s.probe;
      const heap = values.gc ? p.after.heapUsed : p.before.heapUsed;
      console.log(
        `${(s.sessions < 0 ? 'ended' : String(s.sessions)).padStart(8)} ${mb(s.tree.rss)}  ${mb(gw)}   ${mb(up)}  ${mb(heap)}  ${mb(p.before.heapTotal)}    ${mb(p.before.external)}   ${mb(p.before.arrayBuffers)}  ${p.wasm.map((w) => mb(w.rss).trim()).join('+').padEnd(12)} ${mb(p.mallocHeap)} ${mb(p.file)}  ${mb(s.tree.hwm)}`,
      );
    }
    const at = (n: number) => samples.find((s) => s.sessions === n);
    const hi = at(Math.max(...STEPS));
    const lo = at(Math.min(...STEPS.filter((n) => n > 0)));
    if (hi && lo && hi !== lo) {
      const d = (f: (s: Sample) => number) => (f(hi) - f(lo)) / (hi.sessions - lo.sessions) / 1024;
      console.log(`preload: ${preloadCallsPerSec.toFixed(0)} calls/s over 9 sessions`);
      console.log(`per session (${lo.sessions}→${hi.sessions}): tree ${d((s) => s.tree.rss).toFixed(0)} kB, V8 heap ${d((s) => (values.gc ? s.probe.after : s.probe.before).heapUsed).toFixed(0)} kB`);
    }
  }
}
console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
mkdirSync(join(HERE, 'bench/.out'), { recursive: true });
writeFileSync(join(HERE, 'bench/.out/gateway-memory.json'), JSON.stringify({ root: ROOT, label: values.label, steps: STEPS, preload: PRELOAD, rules: RULES, results: all }, null, 2));
