import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PolicyInvalid } from '../policies/service.js';
import { WardenError, describeIssues, isWardenError, type ErrorCode, type ValidationIssue } from '../domain/index.js';

/** The one place an error code becomes an HTTP status; a code not listed here is a 500. */
export const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  'action.invalid': 400,
  'request.invalid': 400,
  'request.query_too_complex': 400,
  'audit.cursor_invalid': 400,
  'request.not_found': 404,
  'decision.not_found': 404,
  'decision.not_allowed': 409,
  'request.host_refused': 421,
  'request.cors_refused': 403,
  'auth.required': 401,
  'auth.invalid_token': 401,
  'auth.forbidden': 403,
  'auth.assertion_refused': 403,
  'auth.rate_limited': 429,
  'identity.tenant_not_found': 404,
  'identity.token_not_found': 404,
  'identity.token_revoked': 409,
  'registry.not_found': 404,
  'policy.not_found': 404,
  'policy.invalid': 422,
  'policy.stale': 412,
  'policy.conflict': 409,
  'policy.self_approval': 403,
  'policy.approvals_missing': 409,
  'session.unavailable': 503,
  'abuse.unavailable': 503,
  'abuse.rule_invalid': 400,
  'abuse.velocity_unavailable': 503,
  'approval.not_found': 404,
  'approval.closed': 409,
  'approval.expired': 409,
  'approval.self': 403,
  'approval.agent_owner': 403,
  'approval.not_approver': 403,
  'approval.reauth_required': 401,
  'approval.already_voted': 409,
  'approval.too_large': 413,
  'approval.too_many_pending': 429,
  'approval.tampered': 409,
  'approval.link_invalid': 403,
  'approval.link_expired': 410,
  'approval.link_used': 409,
  'abuse.case_not_found': 404,
  'abuse.case_claimed': 409,
  'abuse.case_closed': 409,
  'abuse.not_claimed': 409,
  'abuse.case_tampered': 409,
  'abuse.label_not_found': 404,
  'abuse.mitigation_not_found': 404,
  'audit.destination_not_found': 404,
  'audit.hold_not_found': 404,
  'request.too_large': 413,
  'request.unsupported_media_type': 415,
  'internal': 500,
  'store.unavailable': 503,
  'audit.backpressure': 503,
  'audit.write_failed': 503,
};

/** The error body every route returns: `{ error: { code, message, issues?, help? } }`. */
export interface WireError {
  error: { code: ErrorCode; message: string; issues?: ValidationIssue[]; help?: string };
}

/** A 400 `request.invalid` raised by the API's own input checks, with the issues it found. */
export class RequestInvalid extends WardenError {
  readonly issues: ValidationIssue[] | undefined;
  constructor(message: string, issues?: ValidationIssue[]) {
    super('request.invalid', message);
    this.issues = issues;
  }
}

/** A path as a message may echo it: bounded, so a hostile URL is not repeated back whole. */
export function echoPath(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function send(reply: FastifyReply, status: number, body: WireError): FastifyReply {
  return reply.status(status).type('application/json').send(body);
}

/** Maps every thrown error to a precise 4xx, or a 5xx that leaks nothing internal. */
export function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err.validation) {
    const issues = describeIssues(err.validation as Parameters<typeof describeIssues>[0]);
    const where = err.validationContext === 'body' ? 'request body' : `request ${err.validationContext ?? 'input'}`;
    const code = req.routeOptions.url === '/api/v1/decide' && err.validationContext === 'body' ? 'action.invalid' : 'request.invalid';
    return send(reply, 400, { error: { code, message: `the ${where} is invalid: ${issues.map((i) => `\`${i.path}\` ${i.message}`).join('; ')}`, issues } });
  }
  if (isWardenError(err)) {
    const status = STATUS_OF[err.code] ?? 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const issues = err instanceof RequestInvalid || err instanceof PolicyInvalid ? err.issues : undefined;
    return send(reply, status, { error: { code: err.code, message: err.message, ...(issues ? { issues } : {}), ...(err.help ? { help: err.help } : {}) } });
  }
  // Fastify's own client errors (bad JSON, wrong content type, body too large) carry a 4xx status.
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'request.unsupported_media_type' : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'request.too_large' : 'request.invalid';
    return send(reply, status, { error: { code, message: err.message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'$/, 'the request body is not valid JSON') } });
  }
  req.log.error({ err }, 'unexpected error');
  return send(reply, 500, { error: { code: 'internal', message: 'an internal error occurred; the server log has the details' } });
}
