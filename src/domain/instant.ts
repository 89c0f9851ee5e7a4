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
  if (Number.isNaN(ms)) return undefined;
  // `Date` rolls Feb 30 over into March: a day the calendar does not have names no instant.
  const [y, mo, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days) return undefined;
  return ms;
}
