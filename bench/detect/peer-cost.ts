/**
 * Detection cost as a ratio (issue 19): Warden's whole detector set (injection, poisoning, secrets, PII,
 * exfiltration, mining, spam) against npm `llm-guard`'s prompt-injection check, on the same public texts
 * (../shared/data/detect/injection, train and dev) in the same run.
 *
 * The anchor is llm-guard with its prompt-injection guard alone. `new LLMGuard({ promptInjection: true })`
 * also runs its five other guards (PII, profanity, jailbreak, toxicity, relevance: each is on unless set to
 * false), which the baseline of 2026-12-07 timed by mistake; that configuration is printed too, as a second
 * anchor, so the figures carry over.
 *
 * In-process (default): each text is scanned once by each side to warm up, then timed as the best of `--reps`
 * passes, the sides taking turns pass by pass, so load drift on a shared machine falls on both alike. Each
 * pass is timed twice: wall clock, and process CPU time (getrusage, µs), which leaves out the time the
 * process waited for a core: on a loaded machine preemption makes the wall figures of long texts noise, so
 * the CPU figures are the ones to compare (they include GC and JIT threads running meanwhile, and about a
 * µs per reading). `--stages` adds where Warden's time goes (CPU time per stage, summed over the texts).
 *
 * `--process`: the path the issue measured. `warden scan --jsonl FILE` (src/cli through tsx) against
 * bench/detect/llm-guard-jsonl.ts doing the same (read JSONL, check, write a JSON line per text), each run
 * on the texts and on an empty file; per text = (texts run - empty run) / texts, best of `--runs`, in wall
 * time and in CPU time (user + system of the child, from /usr/bin/time, 10 ms resolution). Peak RSS too.
 *
 *   npx tsx bench/detect/peer-cost.ts [--reps 3] [--stages]
 *   npx tsx bench/detect/peer-cost.ts --process [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LLMGuard } from 'llm-guard';
import type { ScanInput } from '../../src/detect/detector.js';
import { createDetectorSet } from '../../src/detect/index.js';
import { decodePayloads } from '../../src/detect/normalize/decode.js';
import { normalize } from '../../src/detect/normalize/normalize.js';
import { rawView } from '../../src/detect/normalize/text-view.js';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' }, process: { type: 'boolean', default: false }, stages: { type: 'boolean', default: false } },
});
const reps = Math.max(1, Number(values.reps));
const ROOT = join(import.meta.dirname, '..', '..');
const DATA = join(ROOT, '..', 'shared', 'data', 'detect', 'injection');
const texts = ['train', 'dev'].flatMap((split) =>
  readFileSync(join(DATA, `${split}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { text: string }).text),
);
const meanKb = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / texts.length / 1024;
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = load();

interface Stats {
  mean: number;
  p50: number;
  p99: number;
}
const stats = (xs: readonly number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: q(0.5), p99: q(0.99) };
};
const line = (name: string, s: Stats) => `${name.padEnd(44)} mean ${s.mean.toFixed(3)} ms  p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms per text`;
const ratio = (a: Stats, b: Stats, name: string) => `warden/${name}: mean ×${(a.mean / b.mean).toFixed(2)}  p50 ×${(a.p50 / b.p50).toFixed(2)}  p99 ×${(a.p99 / b.p99).toFixed(2)}`;
const footer = () => `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${loadBefore} before, ${load()} after, on ${availableParallelism()} cores`;

const OTHER_GUARDS_OFF = { pii: false, profanity: false, jailbreak: false, toxicity: false, relevance: false } as const;

if (values.process) await processMode(Math.max(1, Number(values.runs)));
else await inProcess();

async function inProcess(): Promise<void> {
  const set = createDetectorSet();
  const injection = new LLMGuard({ promptInjection: true, ...OTHER_GUARDS_OFF });
  const defaults = new LLMGuard({ promptInjection: true });
  const sides: Array<(text: string) => unknown> = [(t) => set.scanText(t, 'prompt'), (t) => injection.validate(t), (t) => defaults.validate(t)];
  const wall = sides.map(() => [] as number[]);
  const cpu = sides.map(() => [] as number[]);
  for (const text of texts) {
    for (const scan of sides) await scan(text);
    const bestWall = sides.map(() => Infinity);
    const bestCpu = sides.map(() => Infinity);
    for (let r = 0; r < reps; r++) {
      for (let k = 0; k < sides.length; k++) {
        const c = process.cpuUsage();
        const t = performance.now();
        await sides[k]!(text);
        const ms = performance.now() - t;
        const u = process.cpuUsage(c);
        bestWall[k] = Math.min(bestWall[k]!, ms);
        bestCpu[k] = Math.min(bestCpu[k]!, (u.user + u.system) / 1000);
      }
    }
    bestWall.forEach((b, k) => wall[k]!.push(b));
    bestCpu.forEach((b, k) => cpu[k]!.push(b));
  }
  const out = [`${texts.length} texts, mean ${meanKb.toFixed(2)} KB; in process, best of ${reps} per text, sides taking turns`];
  for (const [clock, times] of [['CPU time', cpu], ['wall clock', wall]] as const) {
    const [w, g, d] = times.map(stats) as [Stats, Stats, Stats];
    out.push(
      `${clock}:`,
      line('  warden (all seven detectors)', w),
      line('  llm-guard (prompt-injection guard only)', g),
      line('  llm-guard (defaults: all six guards)', d),
      `  ${ratio(w, g, 'llm-guard injection')}  (issue 19 target: mean ≤ ×1.0)`,
      `  ${ratio(w, d, 'llm-guard defaults')}`,
    );
  }
  if (values.stages) out.push(...stageLines());
  out.push(footer());
  process.stdout.write(out.join('\n') + '\n');
}

/** CPU time of each stage of a scan (normalize, decode, each detector), summed over the texts after a warm-up pass. */
function stageLines(): string[] {
  const set = createDetectorSet();
  const fold = new Map<number, string>();
  const letters = new Map<number, boolean>();
  const spent = new Map<string, number>();
  const timed = <T>(name: string, f: () => T): T => {
    const t = process.cpuUsage();
    const x = f();
    const u = process.cpuUsage(t);
    spent.set(name, (spent.get(name) ?? 0) + (u.user + u.system) / 1000);
    return x;
  };
  for (let pass = 0; pass < 2; pass++) {
    if (pass === 1) spent.clear();
    for (const text of texts) {
      const n = timed('normalize', () => normalize(text, fold, letters));
      const views = timed('decode', () => [rawView(text), ...decodePayloads(text)]);
      const input: ScanInput = { raw: text, views, normalized: n.view, marks: n.marks, source: 'prompt' };
      for (const d of set.detectors) timed(d.id, () => d.scan(input));
      timed('scanText (whole)', () => set.scanText(text, 'prompt'));
    }
  }
  const whole = spent.get('scanText (whole)')!;
  return [
    'where Warden\'s time goes (CPU ms over all texts, share of a whole scanText):',
    ...[...spent].map(([k, v]) => `  ${k.padEnd(28)} ${v.toFixed(0).padStart(6)} ms  ${((100 * v) / whole).toFixed(0).padStart(3)} %`),
  ];
}

async function processMode(runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-peer-cost-'));
  try {
    const full = join(dir, 'texts.jsonl');
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(full, texts.map((text, id) => JSON.stringify({ id, text, source: 'prompt' })).join('\n') + '\n');
    writeFileSync(empty, '');
    const children: Record<string, (file: string) => string[]> = {
      warden: (file) => ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'scan', '--jsonl', file],
      'llm-guard': (file) => ['--import', 'tsx', join(ROOT, 'bench', 'detect', 'llm-guard-jsonl.ts'), file],
    };
    const run = (args: string[], lines: number): { wall: number; cpu: number; rssMb: number } => {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30 });
      // `warden scan` exits 1 when a finding reaches the threshold; anything else is a failed run.
      if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
      const out = r.stdout.split('\n').filter((l) => l !== '').length;
      if (out !== lines) throw new Error(`${args.join(' ')} wrote ${out} lines for ${lines} texts`);
      const [e, u, s, m] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
      return { wall: e * 1000, cpu: (u + s) * 1000, rssMb: m / 1024 };
    };
    type Best = { startWall: number; fullWall: number; startCpu: number; fullCpu: number; rssMb: number };
    const best: Record<string, Best> = {};
    for (let k = 0; k < runs; k++) {
      for (const [name, args] of Object.entries(children)) {
        const s = run(args(empty), 0);
        const f = run(args(full), texts.length);
        const b = (best[name] ??= { startWall: Infinity, fullWall: Infinity, startCpu: Infinity, fullCpu: Infinity, rssMb: 0 });
        b.startWall = Math.min(b.startWall, s.wall);
        b.fullWall = Math.min(b.fullWall, f.wall);
        b.startCpu = Math.min(b.startCpu, s.cpu);
        b.fullCpu = Math.min(b.fullCpu, f.cpu);
        b.rssMb = Math.max(b.rssMb, f.rssMb);
      }
    }
    const per = (name: string, clock: 'Wall' | 'Cpu') => (best[name]![`full${clock}`] - best[name]![`start${clock}`]) / texts.length;
    const out = [`${texts.length} texts, mean ${meanKb.toFixed(2)} KB; one process per run, read JSONL / scan / write JSONL, best of ${runs} runs`];
    for (const [name, b] of Object.entries(best)) {
      out.push(
        `${name.padEnd(10)} CPU: start-up ${b.startCpu.toFixed(0)} ms, with the texts ${b.fullCpu.toFixed(0)} ms, ${per(name, 'Cpu').toFixed(3)} ms per text; ` +
          `wall: start-up ${b.startWall.toFixed(0)} ms, with the texts ${b.fullWall.toFixed(0)} ms, ${per(name, 'Wall').toFixed(3)} ms per text; peak RSS ${b.rssMb.toFixed(0)} MB`,
      );
    }
    out.push(`warden/llm-guard (injection guard only), per text, start-up subtracted: CPU ×${(per('warden', 'Cpu') / per('llm-guard', 'Cpu')).toFixed(2)}, wall ×${(per('warden', 'Wall') / per('llm-guard', 'Wall')).toFixed(2)}`);
    out.push(`load average ${loadBefore} before, ${load()} after, on ${availableParallelism()} cores`);
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
