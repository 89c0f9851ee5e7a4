/** The checkpoint's named stages, in order; each reports its own timing. */
export const STAGES = ['identify', 'registry', 'detect', 'evaluate', 'approve', 'audit'] as const;
export type Stage = (typeof STAGES)[number];

/** Milliseconds spent in each stage of one pass, for logs, metrics and traces. */
export type StageTimings = Partial<Record<Stage, number>>;
