import type { Finding } from '../domain/index.js';

/** Where a text came from; detectors weigh their rules by it (e.g. tool descriptions get poisoning rules). */
export type ScanSource = 'prompt' | 'tool_args' | 'tool_result' | 'tool_description';

/** The sources a scan can name, in a stable order. */
export const SCAN_SOURCES: readonly ScanSource[] = ['prompt', 'tool_args', 'tool_result', 'tool_description'];

/** A kind of Unicode or spelling trick seen while normalizing; each becomes a finding. */
export type SmugglingKind = 'unicode_tags' | 'zero_width' | 'bidi_control' | 'variation_selectors' | 'homoglyphs' | 'char_spacing';

/** One trick seen, with the raw span it covers and how many chars it involved. */
export interface SmugglingMark {
  readonly kind: SmugglingKind;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  /** For `unicode_tags`: the ASCII the tags spelled. */
  readonly hidden?: string;
}

/** A view of the input a detector reads: the raw text, a normalized form, or a decoded payload. */
export interface TextView {
  /** `raw`, `normalized`, `hidden` (Unicode tag payload) or `decoded:<codec>`. */
  readonly kind: string;
  readonly text: string;
  /** Maps a span of `text` back to a span of the raw input. */
  toRaw(start: number, end: number): readonly [number, number];
}

/** What one detector sees: the raw text, its derived views, and where it came from. */
export interface ScanInput {
  readonly raw: string;
  /** `views[0]` is always the raw view; `normalized` is the folded text; decoded payloads follow. */
  readonly views: readonly TextView[];
  readonly normalized: TextView;
  /** Unicode and spelling tricks undone while normalizing, in raw offsets. */
  readonly marks: readonly SmugglingMark[];
  readonly source: ScanSource;
  /** JSON path of a tool argument (`args.query`), when the text came from one. */
  readonly path?: string;
  /** The name of the field whose value the text is (`password` for `{"password": "…"}`), when it came from one. */
  readonly key?: string;
  /** True when the text is one slice of a longer text (see `DetectorSetOptions.slice`); detectors may bound their work per char. */
  readonly part?: boolean;
}

/** A pure detector: text in, findings out. Never throws on any string, never does I/O. */
export interface Detector {
  /** Stable id, reported in `Finding.detector` (e.g. `warden.secret`). */
  readonly id: string;
  /** The finding categories this detector can report. */
  readonly categories: readonly Finding['category'][];
  scan(input: ScanInput): Finding[];
}
