/** An RFC 3339 date-time with its offset (`Z` or `±hh:mm`); a time without one names no single instant. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * The instant (ms since the epoch) an RFC 3339 date-time with an offset names, or undefined when the
 * text is not one (no offset, or a date JavaScript cannot hold). Sub-millisecond digits are cut, as
 * `Date` reads them; callers that store the instant store `new Date(ms).toISOString()` so every
 * reader compares the same value.
 */
export function parseInstant(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
