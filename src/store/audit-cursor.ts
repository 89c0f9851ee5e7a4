import { WardenError } from '../domain/errors.js';

/** Where a page of the audit log ended: the last row's time (UTC, microseconds) and id. */
export interface AuditCursor {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the database's own precision, so keyset comparison is exact. */
  time: string;
  id: string;
}

const TIME = /^(\d{4,6})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Encodes a cursor as opaque base64url text for `AuditPage.nextCursor`. */
export function encodeAuditCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify([cursor.time, cursor.id]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeAuditCursor`, checking every part so that nothing malformed
 * reaches SQL.
 * @throws WardenError `audit.cursor_invalid`
 */
export function decodeAuditCursor(text: string): AuditCursor {
  if (!BASE64URL.test(text)) throw invalid(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid(text);
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid(text);
  const [time, id] = parsed as unknown[];
  if (typeof time !== 'string' || typeof id !== 'string' || !UUID.test(id) || !isRealTime(time)) throw invalid(text);
  return { time, id };
}

/** True for a well-formed time naming a real instant (no 30 February), which Postgres would reject. */
function isRealTime(time: string): boolean {
  const m = TIME.exec(time);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
}

function invalid(text: string): WardenError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new WardenError('audit.cursor_invalid', `the cursor \`${shown}\` is not one this server issued`, {
    help: 'pass the `nextCursor` of the previous page unchanged, or omit the cursor to start from the newest event',
  });
}
