import type { Effect } from '../domain/decision.js';

const EFFECTS: readonly Effect[] = ['allow', 'deny', 'require_approval'];
/** An approval request's URL as Warden gives it: a path on the same server, so the token goes nowhere else. */
const APPROVAL_PATH = /^\/api\/v1\/approvals\/[A-Za-z0-9_-]+$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * What is wrong with an answer that should be a decision, or undefined when it has the shape the
 * SDK relies on (the wire shape of src/domain/decision.ts, checked without its schema library).
 */
export function checkDecision(body: unknown): string | undefined {
  if (!isObject(body)) return 'not a JSON object';
  if (!EFFECTS.includes(body.effect as Effect)) return '`effect` is not allow, deny or require_approval';
  for (const list of ['reasons', 'warnings', 'findings', 'obligations'] as const) if (!Array.isArray(body[list])) return `\`${list}\` is not a list`;
  const reasons = body.reasons as unknown[];
  if (!reasons.every((r) => isObject(r) && typeof r.policy === 'string' && typeof r.rule === 'string')) return 'a reason names no policy or rule';
  if (body.redactedArgs !== undefined && !isObject(body.redactedArgs)) return '`redactedArgs` is not an object';
  if (body.auditEventId !== undefined && typeof body.auditEventId !== 'string') return '`auditEventId` is not text';
  if (body.cache !== undefined && !(isObject(body.cache) && typeof body.cache.ttlMs === 'number')) return '`cache` has no `ttlMs`';
  const ref = body.approvalRequest;
  if (ref !== undefined) {
    if (!isObject(ref) || typeof ref.id !== 'string' || typeof ref.url !== 'string' || typeof ref.expiresAt !== 'string') return '`approvalRequest` lacks its id, url or expiry';
    if (!APPROVAL_PATH.test(ref.url)) return '`approvalRequest.url` is not an approval path on this server';
  }
  return undefined;
}
