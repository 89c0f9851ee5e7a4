/**
 * A long differential run of the plain YAML reader against `yaml` (the unit test runs a few
 * hundred cases per property; this runs as many as asked and reports how many took the fast path).
 * @example
 * npx tsx test/support/yaml-fuzz-campaign.ts 200000
 */
import fc from 'fast-check';
import { checkAgainstYaml, generatedText, mutatedText } from './yaml-fuzz.js';

const runs = Number(process.argv[2] ?? 100_000);
for (const [name, arb] of [['generated', generatedText], ['mutated', mutatedText]] as const) {
  const tally = { fast: 0, fallback: 0 };
  fc.assert(
    fc.property(arb, (text) => {
      tally[checkAgainstYaml(text)]++;
    }),
    { numRuns: runs },
  );
  console.log(`${name}: ${runs} texts, ${tally.fast} read by the plain reader, ${tally.fallback} left to yaml, 0 disagreements`);
}
