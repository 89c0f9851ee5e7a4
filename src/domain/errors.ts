/**
 * The catalogue of every stable error code: the codes of `WardenError`, of a policy `Diagnostic`
 * (parse, compile and lint rules) and of the API's wire errors. A code, once released, is never
 * reused for another meaning; a code no longer thrown moves to {@link RETIRED_ERROR_CODES}.
 * HTTP status is mapped from these codes only in `src/api`. docs/errors.md is generated from this
 * table (`npx tsx scripts/gen-error-docs.ts`).
 *
 * INVARIANT: every code here is thrown, reported or sent somewhere in src/ (test/error-catalogue.test.ts).
 */
export const ERROR_CODES = {
  'action.invalid': 'an action failed schema validation',
  'policy.yaml_syntax': 'a policy file is not valid YAML',
  'policy.schema': 'a policy document does not match the v1 shape',
  'policy.cel_compile': 'a `when` condition does not parse or type-check',
  'policy.io': 'a policy file or directory could not be read',
  'policy.not_found': 'a managed policy (or a version of it) named by the caller is not in its tenant, or not at a scope it may read',
  'policy.invalid': 'a managed policy version does not lint, or does not compile with the policies in force (each error with its `line:col`)',
  'policy.stale': 'a policy change carried an `If-Match` that is not the latest version: someone changed it since',
  'policy.conflict': 'a policy change does not fit where the version is in its review (submitting a version already active, say), or names a read-only file policy',
  'policy.self_approval': 'a person tried to approve a policy version they wrote or submitted',
  'policy.approvals_missing': 'a policy version was activated with fewer approvals than its scopes require',
  'session.unavailable': 'the session history store (Redis) did not answer; a decision that would read it fails closed',
  'abuse.rule_invalid': 'an abuse rule or queue document does not match its shape, or its `when` or a feature\'s `of` does not compile (each error with its `line:col`)',
  'abuse.unavailable': 'the labels and mitigations of an action\'s agent, principal or session could not be read; the decision fails closed',
  'abuse.velocity_unavailable': 'the velocity store (Redis) of abuse rules did not answer; a synchronous rule that needs it fails closed, an asynchronous one records the miss',
  'approval.not_found': 'an approval request named by the caller is not in its tenant, or not one it may see',
  'approval.closed': 'an answer was given to an approval request that is no longer pending (approved, denied, expired or cancelled)',
  'approval.expired': 'an answer came after the approval request expired; the held call was denied',
  'approval.self': 'the requesting principal or the agent itself tried to answer its own approval request',
  'approval.agent_owner': "the owner of the requesting agent tried to approve its request where the scope does not allow it",
  'approval.not_approver': 'the caller is not among the approvers the rule names (role at the request\'s scope, or named principal)',
  'approval.reauth_required': 'the approval needs an OIDC sign-in more recent than the rule allows',
  'approval.tampered': 'a stored approval request no longer hashes to its digest (changed outside Warden); it is refused, never shown or used',
  'approval.too_large': 'a call too large to put to approval (its subject as approvers would see it exceeds 64 KB); it is denied',
  'approval.too_many_pending': 'an agent has too many approval requests pending; a further call needing approval is denied until some are answered or expire',
  'approval.already_voted': 'a person answered an approval request a second time; one answer per person counts',
  'approval.link_invalid': 'a signed approve/deny link does not verify: its signature was altered, or it was made for another request, vote or call',
  'approval.link_expired': 'a signed approve/deny link was used after its expiry (the request\'s)',
  'approval.link_used': 'a signed approve/deny link was used a second time; each link answers once',
  'abuse.case_not_found': 'an abuse case named by the caller is not in its tenant, or not at a scope where the caller may read cases',
  'abuse.case_claimed': 'an analyst tried to claim or release an abuse case another analyst holds (the message names who)',
  'abuse.case_closed': 'an action was asked of an abuse case that is already decided (confirmed or false positive)',
  'abuse.not_claimed': 'a decision was given on an abuse case the caller has not claimed; claim it first',
  'abuse.case_tampered': 'a stored abuse case no longer reads as a case (a JSON column was changed outside Warden); it is left out of lists and refused by id',
  'abuse.label_not_found': 'a label named for removal is not live on that entity',
  'abuse.mitigation_not_found': 'a mitigation named for lifting is unknown, already lifted or expired',
  'policy_test.schema': 'a policy test file does not match its shape',
  'lint/duplicate-policy': 'two policies share one name',
  'lint/duplicate-rule': 'a policy holds two rules with one name',
  'lint/duplicate-settings': 'two scope-settings documents configure one scope',
  'lint/exclude-covers-scope': 'an `exclude` removes a whole scope of its policy',
  'lint/exclude-outside-scope': 'an `exclude` lies outside every scope of its policy and has no effect',
  'lint/empty-policy': 'a policy has no rules',
  'lint/no-matches': 'a `when` condition calls `matches()`, which can take exponential time; use `re2Matches()`',
  'lint/approval-on-wrong-effect': 'a rule has an approval block but its effect is not `require_approval`',
  'lint/approval-missing': 'a rule requires approval but names no approvers (one person holding `approver` at the scope answers)',
  'lint/approval-unknown-role': 'an approval names a role no person can hold, so nobody could approve',
  'lint/allow-everything': 'a rule allows every action in its scopes',
  'lint/invalid-timezone': 'a scope names an unknown time zone',
  'lint/unknown-field': 'a `when` condition selects a field the variable never has (`principal.rols`), so it fails at run time or its `has()` is always false',
  'lint/undeclared-value': 'a `when` condition compares an enum field with a value it never holds (`tool.risk == "hgh"`)',
  'lint/type-mismatch': 'a `when` condition uses a field against its declared type (`principal.roles == "admin"`), so it fails at run time or is never true',
  'lint/check-private-address': 'a status check URL names a loopback, private, link-local or otherwise non-public address (or `localhost`) that `WARDEN_CHECK_ALLOW_HOSTS` does not list',
  'lint/check-url': 'a status check URL does not parse, is not `http` or `https`, or carries credentials',
  'lint/check-timeout': 'a status check timeout is 0 or longer than 60s',
  'lint/duplicate-check': 'a rule names two status checks with the same name',
  'lint/check-on-deny': 'a deny rule names status checks, which never run (a deny needs no check)',
  'config.invalid': 'the configuration is invalid: a flag, an environment variable or warden.yaml (a file\'s errors carry their `file:line:col`)',
  'client.config_malformed': 'an MCP client\'s configuration file that `warden client config --write` should merge into is not valid JSON or TOML, or not the shape the client reads; it is left unchanged',
  'store.unavailable': 'the database could not be reached',
  'store.migration_failed': 'a database migration failed',
  'store.locked': 'another process holds the embedded database; stop it, or share one PostgreSQL database via `--database-url`',
  'server.port_unavailable': 'the port a server should listen on is taken by another process or not permitted',
  'registry.not_found': 'a server or tool named by the caller is not in the registry',
  'audit.cursor_invalid': 'an audit pagination cursor is malformed',
  'audit.destination_not_found': 'a replay or dead-letter request names a streaming destination that is not configured',
  'audit.backpressure': 'the audit writer queue is full; the caller should retry',
  'audit.write_failed': 'audit events could not be committed',
  'audit.key_invalid': 'the audit signing key is missing or unreadable',
  'audit.verify_failed': 'the audit chain is damaged (a missing or reordered event), so it cannot be sealed',
  'audit.hold_not_found': 'a legal hold named by the caller is not an active hold of its tenant (or not at a scope it manages)',
  'internal': 'an unexpected server error; the server log has the details',
  'decision.not_found': "a decision named by its audit event id is not in the caller's tenant, or not one the caller asked for (an enforcer at its scope may name any)",
  'decision.not_allowed': 'an outcome was reported for a decision that did not allow a tool call',
  'sdk.unreachable': 'the SDK could not reach Warden (network errors, timeouts, 5xx or 429 after its retries): it denies the call, or allows it only when the client was built with `failOpen`',
  'sdk.unauthorized': "Warden refused the SDK's token (401 or 403): the call is denied whatever `failOpen` says",
  'sdk.refused': 'Warden refused the SDK\'s request as invalid (a 4xx other than 401, 403 and 429): the call is denied',
  'sdk.bad_response': "Warden's answer to the SDK is not a decision it can act on (malformed JSON, an unknown effect, an approval URL on another host): the call is denied",
  'sdk.approval_denied': 'the approval request a call waited on was denied or withdrawn: the SDK denies the call',
  'sdk.approval_expired': 'the approval request a call waited on expired without the approvals it needs: the SDK denies the call',
  'sdk.approval_timeout': 'the SDK stopped waiting for an approval (its `maxWaitMs`), withdrew the request and denied the call',
  'request.not_found': 'no API route answers this method and path',
  'request.unsupported_media_type': 'the request body has a content type the API does not accept',
  'request.too_large': 'the request body is larger than the API accepts',
  'request.invalid': 'a request failed validation',
  'request.query_too_complex': 'a GraphQL query nests deeper, or would cost more, than the API answers; refused before any of it runs',
  'request.host_refused': "the request's `Host` (or `X-Forwarded-Host`) is not a name this server answers to (the DNS rebinding defence); add the name with `--public-host`",
  'request.cors_refused': 'a cross-origin preflight came from an origin not listed with `--cors-origin`',
  // identity
  'auth.required': 'an API route was called without an `Authorization: Bearer` token',
  'auth.invalid_token': 'the bearer token is unknown, malformed, revoked or expired, or an OIDC token failed validation',
  'auth.forbidden': "the caller's roles do not allow this route or this scope",
  'auth.assertion_refused': 'a decide call asserted a principal, agent or time other than its credential\'s own; only an `enforcer` may',
  'auth.rate_limited': 'too many failed authentications from this address; wait and retry',
  'identity.tenant_not_found': 'a tenant named by the caller does not exist',
  'identity.token_not_found': 'a token named by the caller is not in its tenant (or not at a scope it manages)',
  'identity.token_revoked': 'a revoked token cannot be rotated',
  // gateway
  'gateway.upstream_closed': 'a request reached an upstream connection the gateway has closed',
  'gateway.session_limit': 'an agent (or the gateway in all) holds as many open sessions as allowed; close unused sessions or wait for idle ones to expire',
  'gateway.rate_limiter_unavailable': 'the Redis that holds the rate-limit counters did not answer in time, so calls under a rate limit are refused until it is back',
  'gateway.upstream_restarted': 'an upstream server restarted between the decision on a call and its forwarding, so the call was not sent',
  'gateway.scope_refused': 'an `X-Warden-Scope` header asks for a scope the agent may not act in: outside its own, malformed, or one where a deny, require_approval or scan that holds at its scope is excluded',
} as const;

/**
 * Codes that were released and are no longer thrown, with what replaced them. They stay reserved:
 * a retired code never comes back with another meaning.
 */
export const RETIRED_ERROR_CODES = {
  'policy.duplicate_name': 'replaced by `lint/duplicate-policy`',
  'policy.duplicate_rule': 'replaced by `lint/duplicate-rule`',
  'policy.lint': 'replaced by the `lint/*` code of each rule',
} as const;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in a source document an error sits (1-based line and column). */
export interface SourceSpan {
  file: string;
  line: number;
  col: number;
}

/** A local error with a stable code, an actionable one-sentence message and optional help. */
export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly help: string | undefined;
  readonly span: SourceSpan | undefined;

  constructor(code: ErrorCode, message: string, opts: { help?: string; span?: SourceSpan; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WardenError';
    this.code = code;
    this.help = opts.help;
    this.span = opts.span;
  }

  /** `file:line:col: message` when a span is known, else the message. */
  format(): string {
    const where = this.span ? `${this.span.file}:${this.span.line}:${this.span.col}: ` : '';
    return `${where}${this.message}${this.help ? ` (help: ${this.help})` : ''}`;
  }
}

/** Type guard that works across module copies. */
export function isWardenError(err: unknown): err is WardenError {
  return err instanceof Error && (err as { name?: string }).name === 'WardenError' && 'code' in err;
}
