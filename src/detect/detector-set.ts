import type { Action, Finding } from '../domain/index.js';
import type { Detector, ScanInput, ScanSource } from './detector.js';
import { createExfiltrationDetector } from './exfil/exfiltration-detector.js';
import { dedupeSteps } from './finding.js';
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
  /**
   * Window size for inputs longer than `window`: each detector call then covers at most this many chars,
   * so an async scan (`scan`, `scanValueAsync`) yields to the event loop at least that often. @default 16384
   */
  slice?: number;
  /** An async scan yields to the event loop once this many milliseconds have passed since it last did. @default 10 */
  yieldEveryMs?: number;
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
  /**
   * Scans one text from `source`; `path` is stamped on findings (e.g. `args.query`), `key` is the name of
   * the field the text is the value of (`password`), which the secret detector reads.
   */
  scanText(text: string, source: ScanSource, options?: { path?: string; key?: string }): ScanResult;
  /**
   * Scans every string leaf of a JSON value (arguments, tool results) with its path and the key it sits
   * under. The walk is iterative: any nesting depth is scanned without growing the call stack.
   */
  scanValue(value: unknown, source: ScanSource, root?: string): Finding[];
  /** `scanValue`, yielding to the event loop every `yieldEveryMs` between detector calls; the same findings. */
  scanValueAsync(value: unknown, source: ScanSource, root?: string): Promise<Finding[]>;
  /** Scans what an action carries: its arguments (as prompts for `prompt.get`/`model.request`) and resource URI. */
  scanAction(action: Action): Finding[];
  /** Scans a tool's name, description and schema strings as `tool_description`. */
  scanToolDefinition(tool: ToolDefinition): Finding[];
  /** `DetectorPort` of src/checkpoint, satisfied structurally: `scanAction`, yielding to the event loop as `scanValueAsync` does. */
  scan(action: Action): Promise<Finding[]>;
}

/** A string leaf of a JSON value: the text, its path, and the name of the nearest object key above it. */
interface Leaf {
  readonly text: string;
  readonly path: string;
  readonly key: string | undefined;
}

/**
 * The non-empty string leaves of `value` in document order (depth first, keys in insertion order).
 * INVARIANT: iterative, with an explicit stack, so no nesting depth can overflow the call stack.
 */
function* leavesOf(value: unknown, root: string): Generator<Leaf> {
  const stack: Array<{ v: unknown; path: string; key: string | undefined }> = [{ v: value, path: root, key: undefined }];
  while (stack.length > 0) {
    const { v, path, key } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > 0) yield { text: v, path, key };
    } else if (Array.isArray(v)) {
      // An array element sits under its array's key (`{"passwords": ["…"]}`).
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]`, key });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        stack.push({ v: x, path: path === '' ? k : joinPath(path, k), key: k });
      }
    }
  }
}

/** Runs a scan's steps to the end without yielding. */
function runSync<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs a scan's steps, handing the event loop back (`setImmediate`) once `everyMs` have passed since it last did. */
async function runYielding<T>(steps: Generator<void, T>, everyMs: number): Promise<T> {
  let last = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - last >= everyMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
  }
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

  const slice = Math.min(window, Math.max(options.slice ?? 16384, 4096));
  const yieldEveryMs = options.yieldEveryMs ?? 10;

  // INVARIANT: a scan's steps end between detector calls, never inside one: the set's scratch buffers are
  // used by one detector call at a time, so scans of the same set may interleave at the steps.
  function* windowSteps(text: string, source: ScanSource, path: string | undefined, key: string | undefined, part: boolean, out: Finding[], offset: number): Generator<void, void> {
    const n = normalize(text, scratch.fold, scratch.letters);
    const views = [rawView(text), ...decodePayloads(text, options.decode)];
    const input: ScanInput = { raw: text, views, normalized: n.view, marks: n.marks, source, ...(path !== undefined ? { path } : {}), ...(key !== undefined ? { key } : {}), ...(part ? { part } : {}) };
    for (const d of detectors) {
      yield;
      let found: Finding[];
      try {
        found = d.scan(input);
      } catch (err) {
        // INVARIANT: a detector never throws; if one does, the scan reports it instead of passing the text.
        found = [{ category: d.categories[0]!, type: 'detector_error', score: 1, severity: 'high', start: 0, end: text.length, detector: d.id, evidence: err instanceof Error ? err.message.slice(0, 200) : 'error', ...(path !== undefined ? { path } : {}) }];
      }
      for (const f of found) out.push(offset === 0 ? f : { ...f, start: f.start + offset, end: f.end + offset });
    }
  }

  function* textSteps(text: string, source: ScanSource, opts: { path?: string; key?: string }): Generator<void, ScanResult> {
    const found: Finding[] = [];
    let windows = 0;
    // A text up to `window` chars is read whole; a longer one in `slice`-sized windows, so no detector call
    // (and no step of an async scan) covers more than `slice` chars of it.
    const size = text.length > window ? slice : window;
    const step = size - Math.min(overlap, size >> 2);
    for (let start = 0; start === 0 || start < text.length - (size - step); start += step) {
      const end = Math.min(text.length, start + size);
      windows++;
      yield* windowSteps(start === 0 && end === text.length ? text : text.slice(start, end), source, opts.path, opts.key, size < text.length, found, start);
      if (end >= text.length) break;
    }
    const findings = yield* dedupeSteps(found.filter((f) => f.score >= floor(f)));
    return { findings, windows, chars: text.length };
  }

  function* valueSteps(value: unknown, source: ScanSource, root: string): Generator<void, Finding[]> {
    const out: Finding[] = [];
    for (const leaf of leavesOf(value, root)) {
      const r = yield* textSteps(leaf.text, source, { ...(leaf.path === '' ? {} : { path: leaf.path }), ...(leaf.key !== undefined ? { key: leaf.key } : {}) });
      out.push(...r.findings);
    }
    return out;
  }

  function* actionSteps(action: Action): Generator<void, Finding[]> {
    const source: ScanSource = action.kind === 'model.request' || action.kind === 'prompt.get' ? 'prompt' : 'tool_args';
    const out = action.args !== undefined ? yield* valueSteps(action.args, source, 'args') : [];
    if (action.resource?.uri !== undefined) out.push(...(yield* textSteps(action.resource.uri, 'tool_args', { path: 'resource.uri' })).findings);
    return out;
  }

  const scanText = (text: string, source: ScanSource, opts: { path?: string; key?: string } = {}): ScanResult => runSync(textSteps(text, source, opts));
  const scanValue = (value: unknown, source: ScanSource, root = ''): Finding[] => runSync(valueSteps(value, source, root));

  return {
    detectors,
    injectionThreshold: injection.model.threshold,
    scanText,
    scanValue,
    scanValueAsync: (value, source, root = '') => runYielding(valueSteps(value, source, root), yieldEveryMs),
    scanAction: (action) => runSync(actionSteps(action)),
    scanToolDefinition: (tool) => [
      ...scanText(tool.name, 'tool_description', { path: 'tool.name' }).findings,
      ...(tool.description !== undefined ? scanText(tool.description, 'tool_description', { path: 'tool.description' }).findings : []),
      ...(tool.inputSchema !== undefined ? scanValue(tool.inputSchema, 'tool_description', 'tool.inputSchema') : []),
    ],
    scan: (action) => runYielding(actionSteps(action), yieldEveryMs),
  };
}
