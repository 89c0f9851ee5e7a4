/**
 * The peer's side of `peer-cost.ts --process`: what `warden scan --jsonl FILE` does, with npm `llm-guard`'s
 * prompt-injection check instead of Warden's detectors. Reads one {"id","text"} object a line from FILE and
 * writes one {"id","valid","score"} line per input to stdout, the way Warden's CLI writes its findings.
 *
 *   node --import tsx bench/detect/llm-guard-jsonl.ts FILE
 */
import { readFileSync } from 'node:fs';
import { LLMGuard } from 'llm-guard';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: llm-guard-jsonl.ts FILE');
// Its prompt-injection guard alone: the other five are on unless turned off.
const guard = new LLMGuard({ promptInjection: true, pii: false, profanity: false, jailbreak: false, toxicity: false, relevance: false });
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line.trim() === '') continue;
  const row = JSON.parse(line) as { id?: unknown; text: string };
  const r = await guard.validate(row.text);
  process.stdout.write(`${JSON.stringify({ id: row.id ?? null, valid: r.isValid, score: r.score })}\n`);
}
