import type { Finding } from '../../domain/index.js';
import type { Detector, ScanInput, TextView } from '../detector.js';
import { excerpt } from '../evidence.js';
import { findingIn } from '../finding.js';
import type { ScanScratch } from '../scan-scratch.js';
import { loadInjectionModel, type InjectionModel, type InjectionWeightsFile } from './injection-model.js';
import { INJECTION_RULES, STRONG_RULE } from './injection-rules.js';
import weights from './injection-weights.json' with { type: 'json' };

/** Options for the prompt-injection detector. */
export interface InjectionDetectorOptions {
  /** Weights to use instead of the shipped `injection-weights.json`. */
  weights?: InjectionWeightsFile;
}

const SMUGGLING_SCORE: Readonly<Record<string, (count: number) => number>> = {
  unicode_tags: (n) => (n >= 2 ? 0.95 : 0.6),
  bidi_control: (n) => (n >= 2 ? 0.7 : 0.55),
  zero_width: (n) => (n >= 3 ? 0.7 : 0.45),
  variation_selectors: (n) => (n >= 8 ? 0.85 : 0.4),
  homoglyphs: () => 0.6,
  char_spacing: (n) => (n >= 10 ? 0.55 : 0.35),
};

/**
 * Finds prompt injection (direct, indirect, jailbreaks, prompt extraction): a rule layer gives spans, a
 * logistic model over the normalized text gives the calibrated score; decoded payloads (base64, hex,
 * ROT13, Unicode tags) are scored as well, and the smuggling itself is reported (`smuggling.<kind>`).
 */
export function createInjectionDetector(options: InjectionDetectorOptions = {}, scratch: Partial<Pick<ScanScratch, 'patterns' | 'features'>> = {}): Detector & { readonly model: InjectionModel } {
  const model = loadInjectionModel(options.weights ?? (weights as InjectionWeightsFile), scratch);
  const ruleById = new Map(INJECTION_RULES.map((r) => [r.id, r]));
  const id = 'warden.prompt_injection';
  const scanView = (view: TextView, input: ScanInput, out: Finding[]) => {
    // A slice of a long text gets the share of words a full 64 KiB window gets (4,000), so slicing a long
    // text finely (to yield to the event loop often) costs the model no more work per char.
    const scored = model.score(view.text, input.part === true ? Math.max(256, Math.ceil((view.text.length * 4000) / 65536)) : undefined);
    const hits = scored.hits;
    // Fail closed: a score that is not a number (never seen; the weights are checked at load)
    // reports the text as an injection rather than letting every comparison pass it.
    const p = Number.isFinite(scored.p) ? scored.p : 1;
    let strongest = 0;
    for (const h of hits) {
      const rule = ruleById.get(h.id)!;
      // Strong rules stand on their own; weaker ones only mark where the model's suspicion sits.
      const score = rule.score >= STRONG_RULE ? Math.max(p, rule.score) : p;
      strongest = Math.max(strongest, score);
      out.push(findingIn(view, { category: 'prompt_injection', type: rule.type, score, start: h.start, end: h.end, detector: id, evidence: excerpt(h.value) }, input.path));
    }
    if (p > strongest) out.push(findingIn(view, { category: 'prompt_injection', type: 'model', score: p, start: 0, end: view.text.length, detector: id, evidence: excerpt(view.text, 60) }, input.path));
  };
  return {
    id,
    categories: ['prompt_injection'],
    model,
    scan(input: ScanInput): Finding[] {
      const out: Finding[] = [];
      scanView(input.normalized, input, out);
      for (const v of input.views) if (v.kind.startsWith('decoded:')) scanView(v, input, out);
      for (const m of input.marks) {
        const score = SMUGGLING_SCORE[m.kind]!(m.count);
        const evidence = m.hidden !== undefined ? `hidden text: ${excerpt(m.hidden, 60)}` : `${m.count} ${m.kind.replace('_', ' ')} char(s)`;
        out.push({ category: 'prompt_injection', type: `smuggling.${m.kind}`, score, severity: score >= 0.8 ? 'high' : score >= 0.5 ? 'medium' : 'low', start: m.start, end: m.end, detector: id, evidence, ...(input.path !== undefined ? { path: input.path } : {}) });
      }
      return out;
    },
  };
}
