/**
 * Time to load (parse, lint, compile, index) a generated policy set of 1 000 to 100 000 rules, the
 * same sets `policy-bench.ts` decides over, with the share of conditions that repeat. The anchor is
 * the YAML parse alone (`yaml`'s parseAllDocuments) of the same files in the same process, which
 * was the floor of the loader before the plain reader (src/policy/plain-yaml.ts) came in front of it.
 *
 * Each size runs in a fresh process that loads first (a cold load: nothing parsed or compiled
 * before it, no cache of any kind), then times the anchors. Load time is wall and CPU (CPU counts
 * the GC's helper threads too; on a shared machine wall is inflated by waiting for a core).
 * @example
 * npx tsx bench/policy/load-bench.ts --sizes 1000,10000,100000
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadPolicySources } from '../../src/policy/index.js';
import { readPlainYaml } from '../../src/policy/plain-yaml.js';
import { createRng } from '../support/rng.js';
import { buildOrg } from './org.js';
import { generatePolicySet } from './generate-policies.js';
import { toWardenSources } from './warden-engine.js';

interface SizeResult {
  size: number;
  files: number;
  plainFiles: number;
  megabytes: number;
  loadMs: number;
  loadCpuMs: number;
  yamlMs: number;
  plainMs: number;
  conditions: number;
  distinctConditions: number;
  heapAfterMiB: number;
  rssPeakMiB: number;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

function measureSize(size: number, seed: number): SizeResult {
  const set = generatePolicySet(createRng(seed), buildOrg(), size);
  const sources = toWardenSources(set);
  const conditions = set.policies.flatMap((p) => p.rules.map((r) => r.condition).filter((c): c is NonNullable<typeof c> => c !== undefined));

  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const { set: loaded, diagnostics } = loadPolicySources(sources);
  const loadMs = performance.now() - t0;
  const loadCpuMs = cpuMs(c0);
  if (!loaded) throw new Error(`load failed: ${diagnostics.find((d) => d.severity === 'error')?.message}`);
  const heapAfterMiB = process.memoryUsage().heapUsed / 2 ** 20;

  const t1 = performance.now();
  for (const s of sources) parseAllDocuments(s.text);
  const yamlMs = performance.now() - t1;
  const t2 = performance.now();
  let plainFiles = 0;
  for (const s of sources) if (readPlainYaml(s.text) !== undefined) plainFiles++;
  const plainMs = performance.now() - t2;

  return {
    size,
    files: sources.length,
    plainFiles,
    megabytes: sources.reduce((n, s) => n + s.text.length, 0) / 1e6,
    loadMs,
    loadCpuMs,
    yamlMs,
    plainMs,
    conditions: conditions.length,
    distinctConditions: new Set(conditions).size,
    heapAfterMiB,
    rssPeakMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function runChild(size: number, seed: number): Promise<SizeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', String(size), '--seed', String(seed)], {
      execArgv: ['--import', import.meta.resolve('tsx'), '--max-old-space-size=8192'],
    });
    let result: SizeResult | undefined;
    child.on('message', (m) => (result = m as SizeResult));
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`size ${size}: child exited with ${code}`))));
  });
}

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,10000,100000' }, seed: { type: 'string', default: '42' }, child: { type: 'string' } },
});

if (values.child !== undefined) {
  const r = measureSize(Number(values.child), Number(values.seed));
  process.send!(r, () => process.exit(0));
} else {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| rules | files (plain reader) | MB | load s (wall) | load s (CPU) | yaml parse alone s | load / yaml parse | plain reader alone s | conditions (distinct) | heap after load MiB | RSS peak MiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const size of values.sizes.split(',').map(Number)) {
    const r = await runChild(size, Number(values.seed));
    const s = (ms: number) => (ms / 1000).toFixed(ms < 100 ? 3 : 2);
    console.log(
      `| ${r.size.toLocaleString('en')} | ${r.files} (${r.plainFiles}) | ${r.megabytes.toFixed(1)} | ${s(r.loadMs)} | ${s(r.loadCpuMs)} | ${s(r.yamlMs)} | ×${(r.loadMs / r.yamlMs).toFixed(2)} | ` +
        `${s(r.plainMs)} | ${r.conditions.toLocaleString('en')} (${r.distinctConditions}) | ${r.heapAfterMiB.toFixed(0)} | ${r.rssPeakMiB.toFixed(0)} |`,
    );
  }
  console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
