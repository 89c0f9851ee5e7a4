import type { PassStage } from './pass.js';
import { approve } from './stages/approve.js';
import { audit } from './stages/audit.js';
import { checks } from './stages/checks.js';
import { detect } from './stages/detect.js';
import { evaluate } from './stages/evaluate.js';
import { identify } from './stages/identify.js';
import { inspect } from './stages/inspect.js';
import { registry } from './stages/registry.js';
import { screen } from './stages/screen.js';

/**
 * The input pass's stages, in the order `checkpoint.check` runs them; each reports its own timing.
 * docs/architecture.md draws this list (a test keeps the two equal).
 */
export const STAGES = [identify, registry, detect, screen, evaluate, checks, approve, audit] as const satisfies readonly PassStage[];

/** The output pass's stages, run by `checkpoint.inspect` on what a forwarded call returned. */
export const OUTPUT_STAGES = [inspect] as const;

/** A stage's name. */
export type Stage = (typeof STAGES)[number]['name'] | (typeof OUTPUT_STAGES)[number]['name'];

/** Milliseconds spent in each stage of one pass, for logs, metrics and traces. */
export type StageTimings = Partial<Record<Stage, number>>;
