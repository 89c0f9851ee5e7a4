import type { Action, Finding } from '../domain/index.js';
import type { Detector, ScanInput, ScanSource } from './detector.js';
import { createExfiltrationDetector } from './exfil/exfiltration-detector.js';
import { dedupeFindings } from './finding.js';
import { createInjectionDetector } from './injection/injection-detector.js';
import type { InjectionWeightsFile } from './injection/injection-model.js';
import { createCryptominingDetector } from './mining/cryptomining-detector.js';
import { decodePayloads, type DecodeLimits } from './normalize/decode.js';
import { normalize } from './normalize/normalize.js';
import { rawView } from './normalize/text-view.js';
import { createScanScratch } from './scan-scratch.js';
import { createPiiDetector, type PiiDetectorOptions } from './pii/pii-detector.js';
import { createToolPoisoningDetector } from './poisoning/tool-poisoning-detector.js';
import { joinPath } from './redact.js';
import { createSecretDetector, type SecretDetectorOptions } from './secrets/secret-detector.js';
import { createSpamDetector, type SpamDetectorOptions } from './spam/spam-detector.js';

/** A detector by the category it reports. */
export type DetectorName = Finding['category'];

/** Every detector, in the order they run. */
export const DETECTOR_NAMES: readonly DetectorName[] = ['prompt_injection', 'tool_poisoning', 'secret', 'pii', 'exfiltration', 'cryptomining', 'spam'];

/** Options for a detector set; validated by the caller (policy `scan` section or config), frozen here. */
export interface DetectorSetOptions {
  /** Which detectors run. @default every detector in DETECTOR_NAMES */
  detectors?: readonly DetectorName[];
  /** Findings below this score are not reported. @default the injection model's tuned threshold for prompt_injection, 0.5 for the rest */
  minScore?: number;
  /** Per-category floors that override `minScore` (e.g. `{ pii: 0.8 }`). */
  thresholds?: Partial<Record<DetectorName, number>>;
  /** Inputs longer than this many chars are scanned in overlapping windows of this size. @default 65536 */
  window?: number;
  /** Overlap between windows, so a match across a boundary is seen whole. @default 2048 */
  overlap?: number;
  /** Hosts that images, links and uploads may reach without an exfiltration finding. @default [] */
  allowedHosts?: readonly string[];
  decode?: DecodeLimits;
  secret?: SecretDetectorOptions;
  pii?: PiiDetectorOptions;
  spam?: SpamDetectorOptions;
  /** Injection weights to use instead of the shipped ones. */
  injectionWeights?: InjectionWeightsFile;
}

/** What one text scan found, and how it was scanned. */
export interface ScanResult {
  readonly findings: Finding[];
  /** Windows scanned (1 for inputs up to `window` chars); never fewer than the input needs. */
  readonly windows: number;
  readonly chars: number;
}

/** A tool definition as the registry sees it, scanned for poisoning at discovery and on change. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema?: unknown;
}

/** A compiled, immutable set of detectors; safe to share across requests. */
export interface DetectorSet {
  readonly detectors: readonly Detector[];
  /** The injection model's tuned threshold (calibrated probability). */
  readonly injectionThreshold: number;
  /** Scans one text from `source`; `path` is stamped on findings (e.g. `args.query`). */
  scanText(text: string, source: ScanSource, options?: { path?: string }): ScanResult;
  /** Scans every string leaf of a JSON value (arguments, tool results) with its path. */
  scanValue(value: unknown, source: ScanSource, root?: string): Finding[];
  /** Scans what an action carries: its arguments (as prompts for `prompt.get`/`model.request`) and resource URI. */
  scanAction(action: Action): Finding[];
  /** Scans a tool's name, description and schema strings as `tool_description`. */
  scanToolDefinition(tool: ToolDefinition): Finding[];
  /** `DetectorPort` of src/checkpoint, satisfied structurally. */
  scan(action: Action): Promise<Finding[]>;
}

/** Builds the detectors named in `options` (all by default) into one set. */
export function createDetectorSet(options: DetectorSetOptions = {}): DetectorSet {
  const names = new Set(options.detectors ?? DETECTOR_NAMES);
  // The set owns its detectors' scratch buffers and memo tables (src/detect keeps no module-level state).
  const scratch = createScanScratch();
  const injection = createInjectionDetector(options.injectionWeights ? { weights: options.injectionWeights } : {}, scratch);
  const all: Record<DetectorName, () => Detector> = {
    prompt_injection: () => injection,
    tool_poisoning: () => createToolPoisoningDetector(scratch),
    secret: () => createSecretDetector(options.secret, scratch),
    pii: () => createPiiDetector(options.pii, scratch),
    exfiltration: () => createExfiltrationDetector(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}, scratch),
    cryptomining: () => createCryptominingDetector(scratch),
    spam: () => createSpamDetector(options.spam, scratch),
  };
  const detectors = DETECTOR_NAMES.filter((n) => names.has(n)).map((n) => all[n]());
  const window = Math.max(options.window ?? 65536, 4096);
  const overlap = Math.min(options.overlap ?? 2048, window >> 2);
  // The injection model's tuned threshold is the floor of the scores it calibrates (the `model` finding and
  // rule spans, which carry its probability) unless the caller sets one; smuggling findings have fixed
  // scores set against 0.5 (one stray zero-width space scores 0.45), so they keep 0.5 like every other category.
  const floor = (f: Finding) =>
    options.thresholds?.[f.category] ?? options.minScore ?? (f.category === 'prompt_injection' && !f.type.startsWith('smuggling.') ? injection.model.threshold : 0.5);

  const scanWindow = (text: string, source: ScanSource, path: string | undefined): Finding[] => {
    const n = normalize(text, scratch.fold);
    const views = [rawView(text), ...decodePayloads(text, options.decode)];
    const input: ScanInput = path !== undefined ? { raw: text, views, normalized: n.view, marks: n.marks, source, path } : { raw: text, views, normalized: n.view, marks: n.marks, source };
    const out: Finding[] = [];
    for (const d of detectors) {
      try {
        out.push(...d.scan(input));
      } catch (err) {
        // INVARIANT: a detector never throws; if one does, the scan reports it instead of passing the text.
        out.push({ category: d.categories[0]!, type: 'detector_error', score: 1, severity: 'high', start: 0, end: text.length, detector: d.id, evidence: err instanceof Error ? err.message.slice(0, 200) : 'error', ...(path !== undefined ? { path } : {}) });
      }
    }
    return out;
  };

  const scanText = (text: string, source: ScanSource, opts: { path?: string } = {}): ScanResult => {
    const found: Finding[] = [];
    let windows = 0;
    const step = window - overlap;
    for (let start = 0; start === 0 || start < text.length - overlap; start += step) {
      const end = Math.min(text.length, start + window);
      windows++;
      for (const f of scanWindow(text.slice(start, end), source, opts.path)) found.push(start === 0 ? f : { ...f, start: f.start + start, end: f.end + start });
      if (end >= text.length) break;
    }
    const findings = dedupeFindings(found.filter((f) => f.score >= floor(f)));
    return { findings, windows, chars: text.length };
  };

  const scanValue = (value: unknown, source: ScanSource, root = ''): Finding[] => {
    const out: Finding[] = [];
    const walk = (v: unknown, path: string) => {
      if (typeof v === 'string') {
        if (v.length > 0) out.push(...scanText(v, source, path === '' ? {} : { path }).findings);
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : joinPath(path, k));
    };
    walk(value, root);
    return out;
  };

  const scanAction = (action: Action): Finding[] => {
    const source: ScanSource = action.kind === 'model.request' || action.kind === 'prompt.get' ? 'prompt' : 'tool_args';
    const out = action.args !== undefined ? scanValue(action.args, source, 'args') : [];
    if (action.resource?.uri !== undefined) out.push(...scanText(action.resource.uri, 'tool_args', { path: 'resource.uri' }).findings);
    return out;
  };

  return {
    detectors,
    injectionThreshold: injection.model.threshold,
    scanText,
    scanValue,
    scanAction,
    scanToolDefinition: (tool) => [
      ...scanText(tool.name, 'tool_description', { path: 'tool.name' }).findings,
      ...(tool.description !== undefined ? scanText(tool.description, 'tool_description', { path: 'tool.description' }).findings : []),
      ...(tool.inputSchema !== undefined ? scanValue(tool.inputSchema, 'tool_description', 'tool.inputSchema') : []),
    ],
    scan: async (action) => scanAction(action),
  };
}
