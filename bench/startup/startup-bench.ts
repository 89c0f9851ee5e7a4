// `npx tsx bench/startup/startup-bench.ts [--runs N]`: how long the built CLI (dist/, what users run)
// takes to start. Two figures, each with its anchor run in turn with it:
//   1. `warden --help` to exit, against `node -e ''` (a bare Node start);
//   2. `warden gateway --stdio -- <server>` to its answer to `initialize` (and then to `tools/list`),
//      against the same server started bare. Warm: the data directory exists (migrated, key made);
//      cold: a fresh data directory each run.
// Run `npm run build` first. Prints the p50 of each and the ratio (or difference) against its anchor.
// `--warden PATH` times another build's bin/warden.js (a checkout of an older commit, for before/after).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { percentile } from '../support/stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const wardenArg = process.argv.indexOf('--warden');
const WARDEN = wardenArg > 0 ? process.argv[wardenArg + 1]! : join(ROOT, 'bin', 'warden.js');
const EVERYTHING = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
const POLICIES = join(ROOT, 'examples', 'policies');

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;

function p50(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

/** Wall milliseconds from spawn to exit. */
function timeToExit(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString()}`);
  return ms;
}

interface Answered {
  initializeMs: number;
  toolsListMs: number;
}

/** Spawns an MCP server over stdio; times its answers to `initialize` and then `tools/list`, then stops it. */
function timeToAnswer(cmd: string, args: string[]): Promise<Answered> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WARDEN_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let buf = '';
    let initializeMs = 0;
    const send = (msg: object) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: { id?: number };
        try {
          msg = JSON.parse(line) as { id?: number };
        } catch {
          continue;
        }
        if (msg.id === 1) {
          initializeMs = performance.now() - t0;
          send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
        } else if (msg.id === 2) {
          const toolsListMs = performance.now() - t0;
          child.stdin.end();
          child.kill('SIGTERM');
          child.once('exit', () => resolve({ initializeMs, toolsListMs }));
        }
      }
    });
    child.once('exit', (code) => {
      if (initializeMs === 0) reject(new Error(`${cmd} exited ${code} before answering: ${stderr}`));
    });
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'startup-bench', version: '1' } } });
  });
}

function fmt(ms: number): string {
  return `${ms.toFixed(0)} ms`;
}

// 1. --help against a bare Node start, run in turn.
const help: number[] = [];
const bare: number[] = [];
timeToExit(process.execPath, [WARDEN, '--help']); // warm the file cache
for (let i = 0; i < RUNS; i++) {
  help.push(timeToExit(process.execPath, [WARDEN, '--help']));
  bare.push(timeToExit(process.execPath, ['-e', '']));
}
console.log(`warden --help            p50 ${fmt(p50(help))}   node -e '' p50 ${fmt(p50(bare))}   ratio ${(p50(help) / p50(bare)).toFixed(2)}x   (${RUNS} runs each)`);

// 2. The stdio gateway against the bare server.
const server = [process.execPath, EVERYTHING, 'stdio'];
const gatewayArgs = (dataDir: string) => [WARDEN, 'gateway', '--stdio', '--scope', 'acme/platform/api', '--policies', POLICIES, '--data-dir', dataDir, '--', ...server];
const warmDir = mkdtempSync(join(tmpdir(), 'warden-startup-warm-'));
const base: Answered[] = [];
const warm: Answered[] = [];
const cold: Answered[] = [];
try {
  await timeToAnswer(process.execPath, gatewayArgs(join(warmDir, 'data'))); // creates and migrates the warm directory
  for (let i = 0; i < RUNS; i++) {
    base.push(await timeToAnswer(server[0]!, server.slice(1)));
    warm.push(await timeToAnswer(process.execPath, gatewayArgs(join(warmDir, 'data'))));
    const coldDir = mkdtempSync(join(tmpdir(), 'warden-startup-cold-'));
    try {
      cold.push(await timeToAnswer(process.execPath, gatewayArgs(join(coldDir, 'data'))));
    } finally {
      rmSync(coldDir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(warmDir, { recursive: true, force: true });
}
const row = (name: string, xs: Answered[]) => {
  const init = p50(xs.map((x) => x.initializeMs));
  const list = p50(xs.map((x) => x.toolsListMs));
  const b0 = p50(base.map((x) => x.initializeMs));
  const b1 = p50(base.map((x) => x.toolsListMs));
  console.log(`${name.padEnd(24)} initialize p50 ${fmt(init).padStart(8)} (+${fmt(init - b0)}, ${(init / b0).toFixed(2)}x)   tools/list p50 ${fmt(list).padStart(8)} (+${fmt(list - b1)}, ${(list / b1).toFixed(2)}x)`);
};
row('bare server-everything', base);
row('gateway --stdio, warm', warm);
row('gateway --stdio, cold', cold);
