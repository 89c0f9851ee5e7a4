import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Token text: `wdn_<id>_<secret><check>`. The fixed `wdn_` prefix and the CRC-32 check let secret
 * scanners recognise a Warden token and rule out random look-alikes offline; `wdn_<id>` (the prefix
 * lists show) names the token without revealing it. Only the SHA-256 of the whole text is stored:
 * the secret carries 160 random bits, so a fast hash is enough (there is nothing to brute-force).
 */
const TOKEN_RE = /^wdn_([0-9a-f]{12})_([0-9a-f]{40})([0-9a-f]{8})$/;

export interface NewTokenSecret {
  /** The token id: the database key and the visible part of the prefix. */
  id: string;
  /** The whole token, shown once. */
  token: string;
  /** `wdn_<id>`, safe to show in lists and logs. */
  prefix: string;
  /** `sha256:<hex>` of the token, what the store keeps. */
  hash: string;
}

function check(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

/** A fresh token, its id, prefix and stored hash. */
export function newTokenSecret(id = randomBytes(6).toString('hex')): NewTokenSecret {
  const body = `wdn_${id}_${randomBytes(20).toString('hex')}`;
  const token = `${body}${check(body)}`;
  return { id, token, prefix: `wdn_${id}`, hash: hashToken(token) };
}

/** The token id when `text` is shaped like a Warden token with a valid check, else undefined. */
export function tokenIdOf(text: string): string | undefined {
  const m = TOKEN_RE.exec(text);
  if (!m) return undefined;
  const body = text.slice(0, text.length - 8);
  return check(body) === m[3] ? m[1] : undefined;
}

export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/**
 * The id of the token a gateway file's static agent token is imported as: fixed per tenant and
 * agent, so replicas starting together import it once, and derived from names only (never from
 * the secret, whose hash must not show in the `wdn_<id>` prefix lists and logs print).
 */
export function seededTokenId(tenantId: string, agentId: string): string {
  return createHash('sha256').update(`warden-seed\0${tenantId}\0${agentId}`, 'utf8').digest('hex').slice(0, 12);
}

/** Compares a presented token with a stored hash in constant time. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
