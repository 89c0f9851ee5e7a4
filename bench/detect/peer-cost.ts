/**
 * Detection cost as a ratio: Warden's whole detector set (injection, poisoning, secrets, PII,
 * exfiltration, mining, spam) against npm `llm-guard`'s prompt-injection check, on the same public
 * texts (../shared/data/detect/injection, train and dev) in the same process and run. Each text is
 * scanned once to warm up, then timed as the best of `--reps` passes, so collector pauses and
 * preemption on a shared machine weigh less than the text itself.
 *
 *   npx tsx bench/detect/peer-cost.ts [--reps 3]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism, loadavg } from 'node:os';
import { createDetectorSet } from '../../src/detect/index.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' } } });
const reps = Math.max(1, Number(values.reps));
const DATA = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'detect', 'injection');
const texts = ['train', 'dev'].flatMap((split) =>
  readFileSync(join(DATA, `${split}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { text: string }).text),
);
const meanKb = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / texts.length / 1024;

const set = createDetectorSet();
const { LLMGuard } = await import('llm-guard');
const guard = new LLMGuard({ promptInjection: true });

async function timeEach(scan: (text: string) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (const text of texts) {
    await scan(text);
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      await scan(text);
      best = Math.min(best, performance.now() - t);
    }
    out.push(best);
  }
  return out;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: q(0.5), p99: q(0.99) };
};

const warden = stats(await timeEach((t) => set.scanText(t, 'prompt')));
const peer = stats(await timeEach((t) => guard.validate(t)));
const line = (name: string, s: ReturnType<typeof stats>) => `${name.padEnd(44)} mean ${s.mean.toFixed(3)} ms  p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms per text`;
process.stdout.write(
  [
    `${texts.length} texts, mean ${meanKb.toFixed(2)} KB; best of ${reps} per text`,
    line('warden (all seven detectors)', warden),
    line('llm-guard (prompt-injection check only)', peer),
    `warden/llm-guard: mean ×${(warden.mean / peer.mean).toFixed(2)}  p50 ×${(warden.p50 / peer.p50).toFixed(2)}  p99 ×${(warden.p99 / peer.p99).toFixed(2)}  (issue 19 target: mean ≤ ×1.0)`,
    `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`,
  ].join('\n') + '\n',
);
