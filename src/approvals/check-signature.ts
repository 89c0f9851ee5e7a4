import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old a signed check request may be before a receiver refuses it as a replay. */
export const CHECK_SIGNATURE_MAX_AGE_SEC = 300;

/** `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: the `X-Warden-Signature` of a check request. */
export function signCheckBody(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does with a check request (docs/approvals.md shows the same steps): the timestamp
 * must be within `maxAgeSec` of its clock and the signature must match the raw body, compared in
 * constant time. True only when both hold.
 */
export function verifyCheckSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSec: number,
  maxAgeSec: number = CHECK_SIGNATURE_MAX_AGE_SEC,
): boolean {
  if (!headers.timestamp || !headers.signature || !/^[0-9]{1,12}$/.test(headers.timestamp)) return false;
  const ts = Number(headers.timestamp);
  if (Math.abs(nowSec - ts) > maxAgeSec) return false;
  const want = Buffer.from(signCheckBody(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
