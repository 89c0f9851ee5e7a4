/**
 * Time to load (parse, lint, compile, index) a generated policy set of 1 000 to 100 000 rules, the
 * same sets `policy-bench.ts` decides over, with the share of conditions that repeat. The anchor is
 * the YAML parse alone of the same files in the same run: what no loader can go below.
 * @example
 * npx tsx bench/policy/load-bench.ts --sizes 1000,10000,100000
 */
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadPolicySources } from '../../src/policy/index.js';
import { createRng } from '../support/rng.js';
import { buildOrg } from './org.js';
import { generatePolicySet } from './generate-policies.js';
import { toWardenSources } from './warden-engine.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,100000' }, seed: { type: 'string', default: '42' } } });
const sizes = values.sizes.split(',').map(Number);

for (const size of sizes) {
  const set = generatePolicySet(createRng(Number(values.seed)), buildOrg(), size);
  const sources = toWardenSources(set);
  const conditions = set.policies.flatMap((p) => p.rules.map((r) => r.condition).filter((c): c is NonNullable<typeof c> => c !== undefined));
  const t0 = performance.now();
  for (const s of sources) parseAllDocuments(s.text);
  const parseMs = performance.now() - t0;
  const rss0 = process.memoryUsage().rss;
  const t1 = performance.now();
  const { set: loaded, diagnostics } = loadPolicySources(sources);
  const loadMs = performance.now() - t1;
  if (!loaded) throw new Error(`load failed: ${diagnostics.find((d) => d.severity === 'error')?.message}`);
  const rssMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  console.log(
    `${String(size).padStart(7)} rules  load ${loadMs.toFixed(0).padStart(6)} ms  YAML parse alone ${parseMs.toFixed(0).padStart(5)} ms  load/parse ×${(loadMs / parseMs).toFixed(2)}  ` +
      `conditions ${conditions.length} (${new Set(conditions).size} distinct)  RSS +${rssMiB.toFixed(0)} MiB`,
  );
}
