/**
 * Policy decision latency: Warden's indexed evaluator against Cedar (cedar-wasm from Node) on the
 * same generated org, policy sets and actions, with every decision Cedar made checked against
 * Warden's (the run fails, listing the first mismatches, when they disagree).
 *
 * Run: `npx tsx bench/policy/policy-bench.ts` with, optionally,
 *   --sizes 100,1000,10000,100000   rule counts, one generated set each
 *   --samples 2000                  sampled actions per set
 *   --seed 42                       generator seed (same seed, same sets and actions)
 *   --warmup 1 --min 3 --max 15     seconds per engine and size: untimed warm-up, then timing for at
 *                                   least `min` and one full pass, never past `max`
 *   --cell-timeout 300              seconds before a worker (one engine, one size) is killed and skipped
 *   --out bench/.out/policy.json    where the JSON result goes
 * Progress goes to stderr, the tables to stdout.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CEDAR_MAPPING_NOTE } from './cedar-translate.js';
import type { CellRequest, CellResult, EngineName } from './cell.js';
import { compareOutcomes } from './compare.js';
import { explainMismatches } from './explain.js';
import type { MeasureOptions } from './measure.js';
import { engineTable, ratioTable, scalingTable, setTable, toJson, type SizeReport } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = join(HERE, '..', '.out', 'policy.json');
const MAX_SHOWN_MISMATCHES = 10;

interface BenchOptions {
  sizes: number[];
  samples: number;
  seed: number;
  measure: MeasureOptions;
  cellTimeoutMs: number;
  out: string;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '100,1000,10000,100000' },
      samples: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '42' },
      warmup: { type: 'string', default: '1' },
      min: { type: 'string', default: '3' },
      max: { type: 'string', default: '15' },
      'cell-timeout': { type: 'string', default: '300' },
      out: { type: 'string', default: DEFAULT_OUT },
    },
  });
  const seconds = (s: string) => Number(s) * 1000;
  return {
    sizes: values.sizes.split(',').map(Number),
    samples: Number(values.samples),
    seed: Number(values.seed),
    measure: { warmupMs: seconds(values.warmup), minMs: seconds(values.min), maxMs: seconds(values.max) },
    cellTimeoutMs: seconds(values['cell-timeout']),
    out: values.out,
  };
}

/** Runs one cell in a child process (tsx loader, --expose-gc); a crash or timeout becomes a failure. */
function runWorker(req: CellRequest, timeoutMs: number): Promise<CellResult> {
  return new Promise((resolve) => {
    const child = fork(join(HERE, 'worker.ts'), [JSON.stringify(req)], {
      execArgv: ['--import', import.meta.resolve('tsx'), '--expose-gc', '--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-600);
    });
    let result: CellResult | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m) => (result = m as CellResult));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result) return resolve(result);
      const why = timedOut ? `did not finish within ${timeoutMs / 1000} s` : `worker exited (code ${code}, signal ${signal})`;
      resolve({ ok: false, engine: req.engine, rules: req.rules, reason: `${why}; last output: ${tail.trim().split('\n').slice(-3).join(' / ')}` });
    });
  });
}

async function runSize(rules: number, opts: BenchOptions): Promise<SizeReport> {
  const cell = (engine: EngineName) => runWorker({ engine, rules, seed: opts.seed, samples: opts.samples, measure: opts.measure }, opts.cellTimeoutMs);
  const warden = await cell('warden');
  const cedar = await cell('cedar');
  const equivalence = warden.ok && cedar.ok ? compareOutcomes(warden.outcomes, cedar.outcomes) : undefined;
  return { rules, warden, cedar, equivalence };
}

interface Machine {
  node: string;
  cpus: number;
  cpuModel: string;
  cedarWasm: string;
}

function machine(): Machine {
  const pkg = JSON.parse(readFileSync(join(HERE, '../../node_modules/@cedar-policy/cedar-wasm/package.json'), 'utf8')) as { version: string };
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', cedarWasm: pkg.version };
}

const LEGEND = [
  'Latency is per decision, each call timed on its own after a warm-up; decisions/s is one thread.',
  'Warden: decide(set, action) on a prebuilt Action. Cedar: statefulIsAuthorized on a set parsed once',
  '  with preparsePolicySet, request JSON prebuilt (principal, ToolCall resource, 4-level Scope chain).',
  'candidates: rules Warden\'s index hands to the evaluator per action (mean).',
  'load average: the machine\'s 1-minute load average when the Warden cell started and ended timing (2 vCPUs, shared).',
  'RSS/heapUsed peak: whole worker process, generation included. Δ load: after minus before loading, both after a full GC.',
  'Ratios are Warden/Cedar: latency < 1 and throughput > 1 favour Warden.',
  `Equivalence: ${CEDAR_MAPPING_NOTE}; every action Cedar decided is compared on the effect`,
  '  (allow / deny / require_approval) and on the set of determining rules.',
];

function render(reports: readonly SizeReport[], m: Machine): string {
  return [
    `Policy decision latency: Warden vs Cedar (node ${m.node}, ${m.cpus} CPUs ${m.cpuModel}, cedar-wasm ${m.cedarWasm})`,
    '',
    setTable(reports),
    '',
    engineTable(reports),
    '',
    ratioTable(reports),
    '',
    scalingTable(reports),
    '',
    ...LEGEND,
    '',
  ].join('\n');
}

function fail(out: string, message: string, meta: Record<string, unknown>, reports: SizeReport[]): never {
  writeFileSync(out, toJson({ ...meta, status: 'failed', error: message }, reports));
  process.stderr.write(`\npolicy bench FAILED: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  mkdirSync(dirname(opts.out), { recursive: true });
  const meta = {
    bench: 'policy',
    date: new Date().toISOString(),
    command: `npx tsx bench/policy/policy-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    options: opts,
    comparison: CEDAR_MAPPING_NOTE,
  };
  const reports: SizeReport[] = [];
  for (const rules of opts.sizes) {
    const report = await runSize(rules, opts);
    reports.push(report);
    if (!report.warden.ok) fail(opts.out, `warden failed at ${rules} rules: ${report.warden.reason}`, meta, reports);
    if (!report.cedar.ok) process.stderr.write(`[cedar ${rules}] skipped: ${report.cedar.reason}\n`);
    const eq = report.equivalence;
    if (eq) process.stderr.write(`[${rules}] equivalence: ${eq.checked} actions compared, ${eq.mismatches.length} mismatches\n`);
    if (eq && eq.mismatches.length > 0) {
      const shown = eq.mismatches.slice(0, MAX_SHOWN_MISMATCHES);
      const detail = explainMismatches(rules, opts.seed, opts.samples, shown);
      process.stderr.write(`\n${eq.mismatches.length} of ${eq.checked} actions decided differently at ${rules} rules; first ${shown.length}:\n${detail}\n`);
      fail(opts.out, `Warden and Cedar disagree on ${eq.mismatches.length} of ${eq.checked} actions at ${rules} rules`, meta, reports);
    }
  }
  writeFileSync(opts.out, toJson({ ...meta, status: 'ok' }, reports));
  process.stdout.write(`\n${render(reports, meta.machine)}\nwritten: ${opts.out}\n`);
}

await main();
