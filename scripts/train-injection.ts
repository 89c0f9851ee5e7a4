/**
 * Trains the prompt-injection model: logistic regression over hashed word and char n-grams of
 * normalized text plus rule hits, with NBSVM-style log-count-ratio scaling (Wang & Manning 2012),
 * class-balanced, AdaGrad, the average of 5 seeded shuffles (reproducible: same data, same seed, same
 * weights). Platt calibration and the decision threshold come from 5-fold out-of-fold scores on train
 * only; dev is never read here.
 *
 *   npm run train:injection [-- --data ../shared/data/detect/injection/train.jsonl --seed 13]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { normalize } from '../src/detect/normalize/normalize.js';
import { CHAR_BLOCK_WEIGHT, createFeatureScratch, FEATURE_BITS, type FeatureVector } from '../src/detect/injection/features.js';
import { evidenceWords, injectionFeatures, packWeights, proseOfJson, shortTextMargin, type InjectionWeightsFile } from '../src/detect/injection/injection-model.js';
import { compilePatternSet } from '../src/detect/pattern-set.js';
import { INJECTION_RULES, STRONG_RULE } from '../src/detect/injection/injection-rules.js';
import { createRng } from '../bench/support/rng.js';
import { benignDocs } from './benign-docs.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(ROOT, '..', 'shared', 'data', 'detect', 'injection', 'train.jsonl') },
    out: { type: 'string', default: join(ROOT, 'src', 'detect', 'injection', 'injection-weights.json') },
    seed: { type: 'string', default: '13' },
    epochs: { type: 'string', default: '12' },
    bag: { type: 'string', default: '5' },
    l2: { type: 'string', default: '1e-5' },
    nb: { type: 'string', default: '1' },
    'max-fpr': { type: 'string', default: '0.015' },
    // README chunks per installed package (plus its package.json) added as benign documents; 0 for none.
    docs: { type: 'string', default: '2' },
    'doc-weight': { type: 'string', default: '0.1' },
    // Writes each row's out-of-fold probability (JSONL: index, kind, label, p, strong) to study errors on train.
    'dump-oof': { type: 'string' },
  },
});

/** The seeded mulberry32 of bench/support, so draws are reproducible. */
const rng = (seed: number): (() => number) => createRng(seed).next;

interface Row {
  text: string;
  label: number;
  kind: string;
  /** Rows of one group share a fold (documents: their package). */
  group?: string;
}
interface Example {
  v: FeatureVector;
  y: number;
  /** Weight of the example in the loss (documents: --doc-weight). */
  w: number;
}

const rows: Row[] = readFileSync(values.data!, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Row);
// Benign technical documents (scripts/benign-docs.ts): a kind of their own, measured apart from the data's rows.
const DOC = 'doc_benign';
const docWeight = Number(values['doc-weight']);
const dataRows = rows.length;
for (const d of benignDocs(ROOT, 'train', Number(values.docs))) rows.push({ text: d.text, label: 0, kind: DOC, group: `pkg:${d.pkg}` });
const rules = compilePatternSet(INJECTION_RULES);
const strongRules = new Set(INJECTION_RULES.filter((r) => r.score >= STRONG_RULE).map((r) => r.id));
// A strong rule hit decides on its own in the detector; the threshold search below counts it the same way.
const strong: boolean[] = [];
// The short-text rule of the detector (injection-model.ts), applied to out-of-fold margins before calibration.
const evidence: number[] = [];
const anyHit: boolean[] = [];
// One scratch for the whole pass, as a DetectorSet shares one across its scans (a fresh one is 1 MB).
const scratch = createFeatureScratch();
const folds = new Map<number, string>();
const examples: Example[] = rows.map((r) => {
  const normalized = normalize(r.text, folds).view.text;
  // As the detector reads it (a no-op on this data: no train row is JSON).
  const text = proseOfJson(normalized) ?? normalized;
  const hits = rules.matchAll(text).matches;
  strong.push(hits.some((h) => strongRules.has(h.id)));
  evidence.push(evidenceWords(text));
  anyHit.push(hits.length > 0);
  return { v: injectionFeatures(text, hits, scratch), y: r.label, w: r.kind === DOC ? docWeight : 1 };
});
const seed = Number(values.seed);
const epochs = Number(values.epochs);
const l2 = Number(values.l2);
const nbAlpha = Number(values.nb);

/**
 * NBSVM's log-count ratio of each bucket over `set`: r = log((p + α) / |p + α|₁) − log((q + α) / |q + α|₁),
 * where p and q sum the feature's values over attacks and over the rest. The model is trained on x·r and
 * ships w·r, so inference is unchanged. Without it (α = 0) every feature starts out equally suspect.
 */
function logCountRatio(set: readonly Example[]): Float32Array | undefined {
  if (!(nbAlpha > 0)) return undefined;
  const dim = 1 << FEATURE_BITS;
  const p = new Float64Array(dim).fill(nbAlpha);
  const q = new Float64Array(dim).fill(nbAlpha);
  for (const { v, y, w } of set) {
    const c = y === 1 ? p : q;
    for (let i = 0; i < v.index.length; i++) c[v.index[i]!]! += v.value[i]! * w;
  }
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < dim; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  const r = new Float32Array(dim);
  for (let i = 0; i < dim; i++) r[i] = Math.log(p[i]! / sp) - Math.log(q[i]! / sq);
  return r;
}

function train(set: readonly Example[], s: number, r = logCountRatio(set)): { w: Float32Array; bias: number } {
  const dim = 1 << FEATURE_BITS;
  const w = new Float32Array(dim);
  const x = (idx: number, value: number) => (r === undefined ? value : value * r[idx]!);
  const g2 = new Float32Array(dim).fill(1e-8);
  let bias = 0;
  let gb2 = 1e-8;
  // Class-balanced over the examples' weights.
  let pos = 0;
  let all = 0;
  for (const e of set) {
    all += e.w;
    if (e.y === 1) pos += e.w;
  }
  const wPos = all / (2 * Math.max(1e-9, pos));
  const wNeg = all / (2 * Math.max(1e-9, all - pos));
  const order = set.map((_, i) => i);
  const rand = rng(s);
  const lr = 0.5;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const k of order) {
      const { v, y } = set[k]!;
      let m = bias;
      for (let i = 0; i < v.index.length; i++) m += w[v.index[i]!]! * x(v.index[i]!, v.value[i]!);
      const p = 1 / (1 + Math.exp(-m));
      const g = (p - y) * (y === 1 ? wPos : wNeg) * set[k]!.w;
      for (let i = 0; i < v.index.length; i++) {
        const idx = v.index[i]!;
        const gi = g * x(idx, v.value[i]!) + l2 * w[idx]!;
        g2[idx] = g2[idx]! + gi * gi;
        w[idx] = w[idx]! - (lr * gi) / Math.sqrt(g2[idx]!);
      }
      gb2 += g * g;
      bias -= (lr * g) / Math.sqrt(gb2);
    }
  }
  if (r !== undefined) for (let i = 0; i < dim; i++) w[i] = w[i]! * r[i]!;
  return { w, bias };
}

/** The average of `bag` models trained on `set` with different shuffle seeds (less variance from the order). */
function trainBagged(set: readonly Example[], s: number): { w: Float32Array; bias: number } {
  const n = Number(values.bag);
  const r = logCountRatio(set);
  if (n <= 1) return train(set, s, r);
  const w = new Float32Array(1 << FEATURE_BITS);
  let bias = 0;
  for (let k = 0; k < n; k++) {
    const m = train(set, s + 1000 * k, r);
    for (let i = 0; i < w.length; i++) w[i] = w[i]! + m.w[i]! / n;
    bias += m.bias / n;
  }
  return { w, bias };
}

function marginOf(model: { w: Float32Array; bias: number }, v: FeatureVector): number {
  let m = model.bias;
  for (let i = 0; i < v.index.length; i++) m += model.w[v.index[i]!]! * v.value[i]!;
  return m;
}

/**
 * The text's longest line: BIPIA puts the same e-mail in the data clean and with a planted instruction,
 * and twins split across folds let a fold memorize the e-mail instead of the instruction; rows that
 * share it share a fold.
 */
function groupKey(text: string): string {
  let best = '';
  for (const line of text.split('\n')) if (line.trim().length > best.length) best = line.trim();
  return best.slice(0, 120).toLowerCase();
}

// 5-fold out-of-fold margins; groups (see groupKey) are assigned to folds by a seeded shuffle.
const K = 5;
const fold = examples.map(() => 0);
{
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = r.group ?? groupKey(r.text);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const keys = [...groups.keys()].sort();
  const r = rng(seed + 1);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  keys.forEach((k, i) => {
    for (const e of groups.get(k)!) fold[e] = i % K;
  });
}
const oof = new Float64Array(examples.length);
for (let k = 0; k < K; k++) {
  const model = trainBagged(
    examples.filter((_, i) => fold[i] !== k),
    seed + 10 + k,
  );
  examples.forEach((e, i) => {
    if (fold[i] === k) oof[i] = shortTextMargin(marginOf(model, e.v), model.bias, evidence[i]!, anyHit[i]!);
  });
}

// Platt scaling on the out-of-fold margins (gradient descent on log loss, with Platt's target smoothing).
const nPos = examples.filter((e) => e.y === 1).length;
const tPos = (nPos + 1) / (nPos + 2);
const tNeg = 1 / (examples.length - nPos + 2);
let a = 1;
let b = 0;
for (let it = 0; it < 5000; it++) {
  let ga = 0;
  let gb = 0;
  examples.forEach((e, i) => {
    const p = 1 / (1 + Math.exp(-(a * oof[i]! + b)));
    const t = e.y === 1 ? tPos : tNeg;
    ga += (p - t) * oof[i]!;
    gb += p - t;
  });
  a -= (0.5 * ga) / examples.length;
  b -= (0.5 * gb) / examples.length;
}
const calibrated = Array.from(oof, (m) => 1 / (1 + Math.exp(-(a * m + b))));

// Threshold: best out-of-fold F1 on the data's rows whose false-positive rate stays within --max-fpr over
// all negatives, over the benign kinds the issue's FPR target is defined on, and over the documents.
const maxFpr = Number(values['max-fpr']);
const BENIGN_KINDS = new Set(['benign', 'hard_benign', 'tool_output_benign']);
let best = { t: 0.5, f1: -1, fpr: 1, benignFpr: 1, docFpr: 0, recall: 0 };
for (let t = 0.05; t <= 0.951; t += 0.01) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let neg = 0;
  let benign = 0;
  let benignFp = 0;
  let docs = 0;
  let docFp = 0;
  examples.forEach((e, i) => {
    const hit = calibrated[i]! >= t || strong[i]!;
    if (rows[i]!.kind === DOC) {
      docs++;
      if (hit) docFp++;
      return;
    }
    if (e.y === 1) {
      if (hit) tp++;
      else fn++;
    } else {
      neg++;
      if (hit) fp++;
      if (BENIGN_KINDS.has(rows[i]!.kind)) {
        benign++;
        if (hit) benignFp++;
      }
    }
  });
  const f1 = (2 * tp) / Math.max(1, 2 * tp + fp + fn);
  const fpr = (fp + docFp) / Math.max(1, neg + docs);
  const benignFpr = benignFp / Math.max(1, benign);
  const docFpr = docFp / Math.max(1, docs);
  if (fpr <= maxFpr && benignFpr <= maxFpr && docFpr <= maxFpr && f1 > best.f1) best = { t: Math.round(t * 100) / 100, f1, fpr, benignFpr, docFpr, recall: tp / Math.max(1, tp + fn) };
}

// Out-of-fold errors per kind at the chosen threshold: where the model is weak, on train only.
const perKind = new Map<string, { ok: number; n: number }>();
rows.forEach((r, i) => {
  const e = perKind.get(r.kind) ?? { ok: 0, n: 0 };
  e.n++;
  if ((calibrated[i]! >= best.t || strong[i]! ? 1 : 0) === r.label) e.ok++;
  perKind.set(r.kind, e);
});

if (values['dump-oof'] !== undefined) {
  writeFileSync(values['dump-oof'], rows.map((r, i) => JSON.stringify({ i, kind: r.kind, label: r.label, p: Number(calibrated[i]!.toFixed(4)), strong: strong[i] })).join('\n') + '\n');
}

const final = trainBagged(examples, seed);
const packed = packWeights(final.w, 1e-3);
const file: InjectionWeightsFile = {
  version: 1,
  bits: FEATURE_BITS,
  bias: final.bias,
  scale: packed.scale,
  weights: packed.weights,
  platt: { a, b },
  threshold: best.t,
  meta: {
    data: 'injection/train.jsonl',
    rows: dataRows,
    positives: nPos,
    seed,
    epochs,
    l2,
    nb: nbAlpha,
    charBlockWeight: CHAR_BLOCK_WEIGHT,
    kept: packed.kept,
    docs: rows.length - dataRows,
    oof: { f1: Number(best.f1.toFixed(4)), fpr: Number(best.fpr.toFixed(4)), benignFpr: Number(best.benignFpr.toFixed(4)), docFpr: Number(best.docFpr.toFixed(4)), recall: Number(best.recall.toFixed(4)) },
    folds: 'grouped by longest line (e-mail twins share a fold)',
  },
};
writeFileSync(values.out!, `${JSON.stringify(file)}\n`);
process.stdout.write(`trained on ${dataRows} rows (${nPos} attacks) and ${rows.length - dataRows} document chunks; kept ${packed.kept} weights; platt a=${a.toFixed(3)} b=${b.toFixed(3)}; threshold ${best.t} (out-of-fold F1 ${best.f1.toFixed(3)}, FPR ${best.fpr.toFixed(3)}, benign FPR ${best.benignFpr.toFixed(3)}, document FPR ${best.docFpr.toFixed(3)}, recall ${best.recall.toFixed(3)})\nout-of-fold per kind (correct/total): ${[...perKind].map(([k, e]) => `${k} ${e.ok}/${e.n}`).join(', ')}\nwrote ${values.out}\n`);
