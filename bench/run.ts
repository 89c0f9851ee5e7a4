// `npm run bench`: every benchmark in turn, each printing its ratio against its own anchor.
// Pass names to run a subset: `npm run bench -- policy audit`.
import { spawnSync } from 'node:child_process';

const BENCHES: Record<string, string> = {
  policy: 'bench/policy/policy-bench.ts',
  replay: 'bench/policy/replay-bench.ts',
  audit: 'bench/audit/audit-bench.ts',
  gateway: 'bench/gateway/gateway-bench.ts',
  detect: 'bench/detect/detect-bench.ts',
  'detect-peer': 'bench/detect/peer-cost.ts',
  startup: 'bench/startup/startup-bench.ts',
  session: 'bench/abuse/session-bench.ts',
  velocity: 'bench/abuse/velocity-bench.ts',
  abuse: 'bench/abuse/rules-bench.ts',
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
let failed = 0;
for (const name of names) {
  const file = BENCHES[name];
  if (!file) {
    console.error(`unknown benchmark \`${name}\`; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} (${file}) ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
