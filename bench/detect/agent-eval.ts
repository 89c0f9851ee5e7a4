/**
 * Prompt injection in agent context: the agent/ dev split of ../shared/data/detect (tool outputs as
 * `tool_result`, tool descriptions as `tool_description`), plus the injection/ dev rows with fewer than 8
 * prose words (the short-text rule's range). Prints precision, recall and FPR per kind at the shipped threshold.
 *
 *   npx tsx bench/detect/agent-eval.ts [--split dev]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDetectorSet } from '../../src/detect/index.js';
import { evidenceWords } from '../../src/detect/injection/injection-model.js';

const DATA = join(resolve(import.meta.dirname, '..', '..'), '..', 'shared', 'data', 'detect');
const { values } = parseArgs({ options: { split: { type: 'string', default: 'dev' } } });
interface Row {
  text: string;
  label: number;
  kind: string;
}
const read = (dir: string) =>
  readFileSync(join(DATA, dir, `${values.split}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);
const set = createDetectorSet();
const flagged = (text: string, source: 'tool_result' | 'tool_description' | 'prompt') =>
  set.scanText(text, source).findings.some((f) => (f.category === 'prompt_injection' || (source === 'tool_description' && f.category === 'tool_poisoning')) && f.score >= set.injectionThreshold);
const groups = new Map<string, { tp: number; fp: number; fn: number; tn: number }>();
const tally = (group: string, predicted: boolean, actual: boolean) => {
  const c = groups.get(group) ?? { tp: 0, fp: 0, fn: 0, tn: 0 };
  if (predicted && actual) c.tp++;
  else if (predicted) c.fp++;
  else if (actual) c.fn++;
  else c.tn++;
  groups.set(group, c);
};
for (const r of read('agent')) {
  const desc = r.kind === 'tool_poisoning' || r.kind === 'tool_description_benign';
  tally(desc ? 'agent: tool descriptions' : 'agent: tool outputs', flagged(r.text, desc ? 'tool_description' : 'tool_result'), r.label === 1);
}
for (const r of read('injection')) {
  if (evidenceWords(r.text) >= 8) continue;
  const source = r.kind === 'indirect' || r.kind === 'tool_output_benign' ? 'tool_result' : 'prompt';
  tally('injection: rows under 8 prose words', flagged(r.text, source), r.label === 1);
}
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');
process.stdout.write('| set | n | precision | recall | FPR | tp fp fn tn |\n|---|---|---|---|---|---|\n');
for (const [g, c] of groups) {
  process.stdout.write(`| ${g} | ${c.tp + c.fp + c.fn + c.tn} | ${fmt(c.tp / (c.tp + c.fp))} | ${fmt(c.tp / (c.tp + c.fn))} | ${fmt(c.fp / (c.fp + c.tn))} | ${c.tp} ${c.fp} ${c.fn} ${c.tn} |\n`);
}
