const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Milliseconds of a policy duration (`500ms`, `2s`, `30m`, `2h`, `1d`), as the document schema's
 * duration patterns accept them; undefined for any other text.
 * @example durationMs('1m') // 60000
 */
export function durationMs(text: string): number | undefined {
  const m = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}
