/**
 * Measures the detectors on ../shared/data/detect and prints one table: precision, recall, F1 and
 * false-positive rate per category, side by side with the npm peers on the same texts.
 *   injection: dev split (tune on train only); peers: @andersmyrmel/vard, @presidio-dev/hai-guardrails
 *     (heuristic + pattern guards, no LLM), llm-guard (its local jailbreak and injection checks).
 *   pii: presidio synth v2 (visible part), span level, overlapping and exact matches per entity type.
 *   secret: a seeded synthetic set built here (real formats with valid checksums, and look-alike
 *     negatives); peer: secretlint's recommended preset.
 *
 *   npm run eval:detect [-- --split dev --json]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDetectorSet } from '../src/detect/index.js';
import { base62, crc32 } from '../src/detect/secrets/checksums.js';
import { createRng } from '../bench/support/rng.js';
import { benignDocs } from './benign-docs.js';

const ROOT = resolve(import.meta.dirname, '..');
const DATA = join(ROOT, '..', 'shared', 'data', 'detect');
const { values } = parseArgs({ options: { split: { type: 'string', default: 'dev' }, json: { type: 'boolean', default: false }, 'no-peers': { type: 'boolean', default: false } } });

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}
const empty = (): Counts => ({ tp: 0, fp: 0, fn: 0, tn: 0 });
function tally(c: Counts, predicted: boolean, actual: boolean) {
  if (predicted && actual) c.tp++;
  else if (predicted) c.fp++;
  else if (actual) c.fn++;
  else c.tn++;
}
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');
function metrics(c: Counts) {
  // A set with no positives (the documents) has an FPR and nothing else.
  const p = c.tp + c.fn === 0 ? Number.NaN : c.tp / (c.tp + c.fp);
  const r = c.tp / (c.tp + c.fn);
  return { precision: p, recall: r, f1: (2 * p * r) / (p + r), fpr: c.tn > 0 ? c.fp / (c.fp + c.tn) : Number.NaN, n: c.tp + c.fp + c.fn + c.tn };
}
const rows: Array<{ category: string; system: string; c: Counts; note?: string }> = [];
const set = createDetectorSet();

// ---- injection ------------------------------------------------------------------------------
interface InjRow {
  text: string;
  label: number;
  kind: string;
}
const inj: InjRow[] = readFileSync(join(DATA, 'injection', `${values.split}.jsonl`), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as InjRow);
const benignKinds = new Set(['benign', 'hard_benign', 'tool_output_benign']);
const injSource = (r: InjRow) => (r.kind === 'indirect' || r.kind === 'tool_output_benign' ? 'tool_result' : 'prompt');
const wardenInj = inj.map((r) => set.scanText(r.text, injSource(r)).findings.some((f) => f.category === 'prompt_injection' && f.score >= set.injectionThreshold));
function injRows(system: string, predicted: readonly boolean[]) {
  const all = empty();
  const fprSet = empty();
  inj.forEach((r, i) => {
    tally(all, predicted[i]!, r.label === 1);
    if (benignKinds.has(r.kind)) tally(fprSet, predicted[i]!, false);
  });
  rows.push({ category: 'prompt_injection', system, c: all, note: `FPR benign+hard_benign+tool_output_benign ${fmt(metrics(fprSet).fpr)} (n=${fprSet.fp + fprSet.tn})` });
}
injRows('warden', wardenInj);
const perKind = new Map<string, Counts>();
inj.forEach((r, i) => {
  const c = perKind.get(r.kind) ?? empty();
  tally(c, wardenInj[i]!, r.label === 1);
  perKind.set(r.kind, c);
});

// Benign technical documents, what file and web tools return all day: chunks of the installed READMEs and
// manifests of the packages the training script never reads (scripts/benign-docs.ts). No attacks: FPR only.
const techDocs = benignDocs(ROOT, 'eval', 3);
const techDocsNote = `${techDocs.length} chunks of ${new Set(techDocs.map((d) => d.pkg)).size} packages' READMEs and package.json, none trained on`;
function docRows(system: string, flagged: readonly boolean[]) {
  const c = empty();
  for (const f of flagged) tally(c, f, false);
  rows.push({ category: 'prompt_injection (tech docs)', system, c, note: techDocsNote });
}
docRows('warden', techDocs.map((d) => set.scanText(d.text, 'tool_result').findings.some((f) => f.category === 'prompt_injection' && f.score >= set.injectionThreshold)));

if (!values['no-peers']) {
  const vard = (await import('@andersmyrmel/vard')).default as unknown as (s: string) => string;
  const vardFlags = (text: string) => {
    try {
      vard(text);
      return false;
    } catch {
      return true;
    }
  };
  injRows('@andersmyrmel/vard', inj.map((r) => vardFlags(r.text)));
  docRows('@andersmyrmel/vard', techDocs.map((d) => vardFlags(d.text)));
  // hai-guardrails' published builds do not load as shipped (see scripts/peers/hai-guardrails.ts); its own
  // CJS build is evaluated with three path literals corrected. Pattern mode runs every time (<1 s);
  // heuristic mode scores 8,800 generated keywords against every token window (~30 ms per token on
  // 2 cores, 33 min on this split), so it runs with WARDEN_EVAL_HAI_HEURISTIC=1 and its verdicts are
  // memoised in bench/.out (gitignored); later runs reuse them when every row is cached.
  try {
    const { HAI_MODES, HAI_THRESHOLD, haiGuardrailsFlags } = await import('./peers/hai-guardrails.js');
    const texts = inj.map((r) => r.text);
    const hai = {
      ...(await haiGuardrailsFlags(texts, {
        modes: ['heuristic'],
        cacheFile: join(ROOT, 'bench', '.out', 'hai-guardrails-verdicts.json'),
        cacheOnly: process.env.WARDEN_EVAL_HAI_HEURISTIC === '1' ? [] : ['heuristic'],
        progress: (_mode, done, total) => {
          if (done % 10 === 0 || done === total) process.stderr.write(`hai-guardrails heuristic ${done}/${total}\r${done === total ? '\n' : ''}`);
        },
      })),
      ...(await haiGuardrailsFlags(texts, { modes: ['pattern'] })),
    };
    for (const mode of HAI_MODES) {
      const r = hai[mode];
      if (!r) {
        rows.push({ category: 'prompt_injection', system: `hai-guardrails (${mode})`, c: empty(), note: 'not run: ~33 min on 2 cores; WARDEN_EVAL_HAI_HEURISTIC=1 npm run eval:detect (verdicts are then cached)' });
        continue;
      }
      injRows(`hai-guardrails (${mode})`, r.flags);
      rows.at(-1)!.note += `; threshold ${HAI_THRESHOLD}; ${r.computed === 0 ? 'cached verdicts' : `${(r.ms / 1000).toFixed(1)} s for ${r.computed} rows`}`;
    }
    // Pattern mode only on the documents: heuristic mode would take hours on them.
    const haiDocs = await haiGuardrailsFlags(techDocs.map((d) => d.text), { modes: ['pattern'] });
    if (haiDocs.pattern) docRows('hai-guardrails (pattern)', haiDocs.pattern.flags);
  } catch (err) {
    rows.push({ category: 'prompt_injection', system: 'hai-guardrails', c: empty(), note: `did not run: ${String(err).slice(0, 160)}` });
  }
  const { LLMGuard } = await import('llm-guard');
  const guard = new LLMGuard({ jailbreak: true, promptInjection: true });
  const guardFlags = async (texts: readonly string[]) => {
    const out: boolean[] = [];
    for (const text of texts) {
      const res = (await guard.validate(text)) as { isValid?: boolean };
      out.push(res.isValid === false);
    }
    return out;
  };
  injRows('llm-guard', await guardFlags(inj.map((r) => r.text)));
  docRows('llm-guard', await guardFlags(techDocs.map((d) => d.text)));
}

// ---- pii (span level) ------------------------------------------------------------------------
interface PiiDoc {
  full_text: string;
  spans: Array<{ entity_type: string; start_position: number; end_position: number }>;
}
const PII_TYPES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'IP_ADDRESS', 'PERSON'];
const docs = JSON.parse(readFileSync(join(DATA, 'pii', 'presidio_synth_v2.visible.json'), 'utf8')) as PiiDoc[];
const piiOverlap = new Map(PII_TYPES.map((t) => [t, empty()]));
const piiExact = new Map(PII_TYPES.map((t) => [t, empty()]));
// Overlap counts by half of the file: rules are tuned on the even rows and checked on the odd ones.
const piiHalves = [0, 1].map(() => new Map(PII_TYPES.map((t) => [t, empty()])));
for (const [row, d] of docs.entries()) {
  const found = set.scanText(d.full_text, 'prompt').findings.filter((f) => f.category === 'pii');
  for (const type of PII_TYPES) {
    const gold = d.spans.filter((s) => s.entity_type === type);
    const pred = found.filter((f) => f.type === type);
    for (const [map, same] of [
      [piiOverlap, (g: (typeof gold)[number], p: (typeof pred)[number]) => p.start < g.end_position && g.start_position < p.end],
      [piiExact, (g: (typeof gold)[number], p: (typeof pred)[number]) => p.start === g.start_position && p.end === g.end_position],
    ] as const) {
      for (const c of map === piiOverlap ? [map.get(type)!, piiHalves[row % 2]!.get(type)!] : [map.get(type)!]) {
        for (const g of gold) {
          if (pred.some((p) => same(g, p))) c.tp++;
          else c.fn++;
        }
        for (const p of pred) if (!gold.some((g) => same(g, p))) c.fp++;
      }
    }
  }
}
const sum = (m: Map<string, Counts>, types: readonly string[]) => types.reduce((a, t) => ({ tp: a.tp + m.get(t)!.tp, fp: a.fp + m.get(t)!.fp, fn: a.fn + m.get(t)!.fn, tn: 0 }), empty());
const checksummed = ['CREDIT_CARD', 'IBAN_CODE', 'US_SSN'];
rows.push({ category: 'pii (checksum types, overlap)', system: 'warden', c: sum(piiOverlap, checksummed), note: checksummed.join(' ') });
rows.push({ category: 'pii (checksum types, exact)', system: 'warden', c: sum(piiExact, checksummed) });
for (const t of PII_TYPES) {
  const [tune, check] = piiHalves.map((h) => fmt(metrics(h.get(t)!).f1));
  rows.push({ category: `pii ${t} (overlap)`, system: 'warden', c: piiOverlap.get(t)!, note: `exact F1 ${fmt(metrics(piiExact.get(t)!).f1)}; F1 even rows ${tune}, odd ${check}` });
}

// ---- secrets (synthetic, seeded) ---------------------------------------------------------------
/** The seeded mulberry32 of bench/support, so draws are reproducible. */
const rng = (seed: number): (() => number) => createRng(seed).next;
const rand = rng(1);
const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
const AN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const b64u = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const ghTok = (p: string) => {
  const body = pick(AN, 30);
  return `${p}_${body}${base62(crc32(body), 6)}`;
};
const positives: Array<() => string> = [
  () => `AKIA${pick(UP, 16)}`,
  () => ghTok('ghp'),
  () => ghTok('npm'),
  () => `xoxb-${pick('0123456789', 11)}-${pick('0123456789', 12)}-${pick(AN, 24)}`,
  () => `sk_live_${pick(AN, 24)}`,
  () => `sk-proj-${pick(AN, 20)}T3BlbkFJ${pick(AN, 20)}`,
  () => `sk-ant-api03-${pick(AN, 93)}AA`,
  () => `AIza${pick(AN, 35)}`,
  () => `glpat-${pick(AN, 20)}`,
  () => `SG.${pick(AN, 22)}.${pick(AN, 43)}`,
  () => `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ sub: pick(AN, 8), iat: 1700000000 })}.${pick(AN, 43)}`,
  () => `postgres://app:${pick(AN, 14)}@db.internal:5432/prod`,
  () => `-----BEGIN OPENSSH PRIVATE KEY-----\n${pick(AN, 64)}\n-----END OPENSSH PRIVATE KEY-----`,
  () => `hf_${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 34)}`,
  () => `client_secret = "${pick(AN, 32)}"`,
];
const negatives: Array<() => string> = [
  () => `commit ${pick('0123456789abcdef', 40)}`,
  () => `sha256:${pick('0123456789abcdef', 64)}`,
  () => `id ${crypto.randomUUID()}`,
  () => 'AKIAIOSFODNN7EXAMPLE',
  () => 'api_key = "your_api_key_here"',
  () => 'password: ${DB_PASSWORD}',
  () => 'postgres://user:password@localhost:5432/db',
  () => `token = process.env.GITHUB_TOKEN`,
  () => `The ${pick('abcdefghijklmnopqrstuvwxyz', 8)} module exports a ${pick('abcdefghijklmnopqrstuvwxyz', 6)}Token function.`,
  () => `ghp_${'x'.repeat(36)}`,
  () => `secret_name = "prod-database-credentials"`,
];
const secretTexts: Array<{ text: string; label: boolean }> = [];
const wrap = (s: string) => ['Use this: ', 'config:\n  key: ', 'export VALUE=', '{"k": "', 'see '][Math.floor(rand() * 5)] + s + ['\n', '"}', ' please', '', ' ok'][Math.floor(rand() * 5)];
for (let i = 0; i < 300; i++) secretTexts.push({ text: wrap(positives[i % positives.length]!()), label: true });
for (let i = 0; i < 300; i++) secretTexts.push({ text: wrap(negatives[i % negatives.length]!()), label: false });
const secC = empty();
for (const t of secretTexts) tally(secC, set.scanText(t.text, 'tool_args').findings.some((f) => f.category === 'secret'), t.label);
rows.push({ category: 'secret (synthetic, seed 1)', system: 'warden', c: secC, note: `${positives.length} formats, ${negatives.length} look-alike kinds` });
if (!values['no-peers']) {
  const { lintSource } = await import('@secretlint/core');
  const { creator } = await import('@secretlint/secretlint-rule-preset-recommend');
  const c = empty();
  for (const t of secretTexts) {
    const r = await lintSource({ source: { filePath: '/virtual/input.txt', content: t.text, contentType: 'text' }, options: { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: creator }] } } });
    tally(c, r.messages.length > 0, t.label);
  }
  rows.push({ category: 'secret (synthetic, seed 1)', system: 'secretlint (recommended)', c });
}

// ---- print -------------------------------------------------------------------------------------
if (values.json) process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, ...metrics(r.c) })), null, 2)}\n`);
else {
  const lines = [`| category | system | n | precision | recall | F1 | FPR | note |`, `|---|---|---|---|---|---|---|---|`];
  for (const r of rows) {
    const m = metrics(r.c);
    lines.push(`| ${r.category} | ${r.system} | ${m.n} | ${fmt(m.precision)} | ${fmt(m.recall)} | ${fmt(m.f1)} | ${fmt(m.fpr)} | ${r.note ?? ''} |`);
  }
  lines.push('', `injection threshold ${set.injectionThreshold} (tuned on train folds); ${values.split} rows ${inj.length}; per kind (warden, correct/total): ${[...perKind].map(([k, c]) => `${k} ${c.tp + c.tn}/${c.tp + c.tn + c.fp + c.fn}`).join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
