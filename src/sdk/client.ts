import type { Action } from '../domain/action.js';
import type { Decision } from '../domain/decision.js';
import type { Finding } from '../domain/finding.js';
import { createDecisionCache, type DecisionCache } from './decision-cache.js';
import type { SdkErrorCode } from './errors.js';
import { request, sleep, type HttpSettings } from './http.js';
import { checkDecision } from './wire.js';

/** How to reach Warden and what to do when it does not answer. */
export interface WardenClientOptions {
  /** Warden's base URL, such as `https://warden.internal:8080`. */
  url: string;
  /** A Warden token (`wdn_…`): an `agent` token deciding as itself, or an `enforcer` token. */
  token: string;
  /** How long one attempt may take. @default 5000 */
  timeoutMs?: number;
  /** Attempts after the first, on network errors, timeouts, 5xx and 429. @default 2 */
  retries?: number;
  /** The backoff between attempts: a random wait below min(maxMs, baseMs·2ⁿ), at least half of it. @default { baseMs: 200, maxMs: 5000 } */
  backoff?: { baseMs?: number; maxMs?: number };
  /** A `Retry-After` longer than this ends the retries. @default 30000 */
  maxRetryAfterMs?: number;
  /**
   * Allow a call when Warden cannot be reached (after the retries). Only unreachability: a refused
   * token, a refused action or a malformed answer still deny. @default false (fail closed)
   */
  failOpen?: boolean;
  /** The local cache of allows that policy marks reusable (`cache:` on a rule); `false`: none. @default { maxEntries: 1000 } */
  cache?: { maxEntries?: number } | false;
  /** Waiting on approvals: how long at most, and how often to poll (growing by half up to `maxPollMs`). @default { maxWaitMs: 300000, pollMs: 500, maxPollMs: 5000 } */
  approvals?: { maxWaitMs?: number; pollMs?: number; maxPollMs?: number };
  /** A result larger than this (serialized) is reported without its body. @default 204800 */
  maxReportBytes?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for the cache. @default Date.now */
  now?: () => number;
  /** In [0, 1), the backoff's jitter. @default Math.random */
  random?: () => number;
}

/** A decision as the client hands it on: Warden's, one reused from the cache, or one the SDK made (Warden unreachable …). */
export type ClientDecision = Decision & {
  readonly source: 'warden' | 'cache' | 'sdk';
  /** Set when the SDK decided: why. */
  readonly sdkCode?: SdkErrorCode;
};

/** How a call ended, as the adapters report it. */
export type CallOutcome = { outcome: 'completed'; result: unknown; isError?: boolean; durationMs?: number } | { outcome: 'failed'; error: string; durationMs?: number };

/** What Warden answered to an outcome report. */
export type OutcomeReceipt =
  | { readonly reported: true; readonly eventId: string; readonly findings: readonly Finding[]; readonly maskedResult?: unknown; readonly masked: boolean }
  | { readonly reported: false; readonly reason: string };

/** A client of Warden's decision API. */
export interface WardenClient {
  /** Decides one action; never throws but for `signal`'s abort: a failure to decide is a deny naming its SDK code. */
  decide(action: Action, opts?: { signal?: AbortSignal }): Promise<ClientDecision>;
  /**
   * Decides, and when the answer is `require_approval`, waits for the approval request (polling its
   * URL with backoff, up to `maxWaitMs`), then decides the same action again: an approved request
   * gives an allow that names it. Gives up by cancelling the request: on timeout (a deny,
   * `sdk.approval_timeout`) and when `signal` aborts (rethrown).
   */
  decideAndWait(action: Action, opts?: { signal?: AbortSignal; maxWaitMs?: number }): Promise<ClientDecision>;
  /** Reports how an allowed call ended (`POST /api/v1/decide/outcome`); never throws. */
  reportOutcome(decision: ClientDecision, outcome: CallOutcome, opts?: { signal?: AbortSignal }): Promise<OutcomeReceipt>;
}

/**
 * Builds a client. Fail closed by default: when Warden cannot be reached the call is denied with
 * reason `sdk.unreachable`, never allowed.
 * @example
 * const warden = createWardenClient({ url: 'http://127.0.0.1:8080', token: process.env.WARDEN_TOKEN! });
 * const d = await warden.decide({ kind: 'tool.call', scope: 'acme/app', tool: { server: 'app', name: 'files.read' }, args: { path: 'a.txt' } });
 */
export function createWardenClient(options: WardenClientOptions): WardenClient {
  const http: HttpSettings = {
    base: options.url.replace(/\/+$/, ''),
    token: options.token,
    timeoutMs: options.timeoutMs ?? 5000,
    retries: options.retries ?? 2,
    backoffBaseMs: options.backoff?.baseMs ?? 200,
    backoffMaxMs: options.backoff?.maxMs ?? 5000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    random: options.random ?? Math.random,
  };
  const now = options.now ?? Date.now;
  const cache: DecisionCache | undefined = options.cache === false ? undefined : createDecisionCache({ maxEntries: options.cache?.maxEntries ?? 1000, now });
  const waits = { maxWaitMs: options.approvals?.maxWaitMs ?? 300_000, pollMs: options.approvals?.pollMs ?? 500, maxPollMs: options.approvals?.maxPollMs ?? 5000 };
  const maxReportBytes = options.maxReportBytes ?? 200 * 1024;

  async function decide(action: Action, opts: { signal?: AbortSignal } = {}): Promise<ClientDecision> {
    const cached = cache?.get(action);
    if (cached) return { ...cached, source: 'cache' };
    const res = await request(http, 'POST', '/api/v1/decide', action, opts.signal);
    if (res.kind === 'unreachable') {
      return options.failOpen
        ? sdkDecision('allow', 'sdk.unreachable', `${res.message}; allowed because the client fails open`)
        : sdkDecision('deny', 'sdk.unreachable', `${res.message}; the call is denied (the client fails closed)`);
    }
    if (res.kind === 'refused') return refusedDecision(res.status, res.code, res.message);
    const problem = checkDecision(res.body);
    if (problem !== undefined) return sdkDecision('deny', 'sdk.bad_response', `Warden's answer is not a decision (${problem}); the call is denied`);
    const decision = res.body as Decision;
    cache?.put(action, decision);
    return { ...decision, source: 'warden' };
  }

  async function decideAndWait(action: Action, opts: { signal?: AbortSignal; maxWaitMs?: number } = {}): Promise<ClientDecision> {
    const first = await decide(action, opts);
    if (first.effect !== 'require_approval' || first.approvalRequest === undefined) return first;
    return waitForApproval(action, first, opts.signal, opts.maxWaitMs ?? waits.maxWaitMs);
  }

  async function waitForApproval(action: Action, decision: ClientDecision, signal: AbortSignal | undefined, maxWaitMs: number): Promise<ClientDecision> {
    const ref = decision.approvalRequest!;
    // Not bounded by `expiresAt`, which is Warden's clock: an expired request answers `expired` when polled.
    const deadline = now() + maxWaitMs;
    let delay = waits.pollMs;
    let lastProblem: string | undefined;
    try {
      for (;;) {
        const left = deadline - now();
        if (left <= 0) break;
        await sleep(Math.min(delay, left), signal);
        delay = Math.min(waits.maxPollMs, Math.round(delay * 1.5));
        const res = await request(http, 'GET', ref.url, undefined, signal);
        if (res.kind === 'refused') return refusedDecision(res.status, res.code, `approval request \`${ref.id}\` could not be read: ${res.message}`);
        if (res.kind === 'unreachable') {
          lastProblem = res.message;
          continue;
        }
        const r = res.body as { status?: unknown; votes?: { vote?: string; principal?: string; comment?: string }[]; expiresAt?: string };
        if (r.status === 'approved') return await decide(action, signal ? { signal } : {});
        if (r.status === 'denied') {
          const no = r.votes?.find((v) => v.vote === 'deny');
          return sdkDecision('deny', 'sdk.approval_denied', `approval request \`${ref.id}\` was denied${no?.principal ? ` by \`${no.principal}\`` : ''}${no?.comment ? `: ${no.comment}` : ''}`, decision);
        }
        if (r.status === 'expired') return sdkDecision('deny', 'sdk.approval_expired', `approval request \`${ref.id}\` expired at ${r.expiresAt ?? ref.expiresAt} without the approvals it needs`, decision);
        if (r.status === 'cancelled') return sdkDecision('deny', 'sdk.approval_denied', `approval request \`${ref.id}\` was withdrawn`, decision);
        if (r.status !== 'pending') return sdkDecision('deny', 'sdk.bad_response', `Warden's answer for approval request \`${ref.id}\` has no known status`, decision);
      }
    } catch (err) {
      // The caller gave up: withdraw the request so no approver answers a call nobody waits for.
      await cancel(ref.url, 'the caller stopped waiting');
      throw err;
    }
    await cancel(ref.url, 'the enforcement point stopped waiting');
    return sdkDecision(
      'deny',
      'sdk.approval_timeout',
      `approval request \`${ref.id}\` was not approved within ${Math.round(maxWaitMs / 1000)}s, so it was withdrawn${lastProblem ? ` (last poll: ${lastProblem})` : ''}`,
      decision,
    );
  }

  async function cancel(url: string, reason: string): Promise<void> {
    // Best effort and never under the caller's (maybe aborted) signal: the request expires anyway.
    await request({ ...http, retries: 0 }, 'POST', `${url}/cancel`, { reason }, undefined).catch(() => undefined);
  }

  async function reportOutcome(decision: ClientDecision, outcome: CallOutcome, opts: { signal?: AbortSignal } = {}): Promise<OutcomeReceipt> {
    if (decision.auditEventId === undefined) return { reported: false, reason: 'the decision has no audit event to report against (Warden did not decide it)' };
    const body: Record<string, unknown> = { auditEventId: decision.auditEventId, outcome: outcome.outcome, ...(outcome.durationMs !== undefined ? { durationMs: Math.max(0, outcome.durationMs) } : {}) };
    if (outcome.outcome === 'failed') body.error = outcome.error.slice(0, 2048);
    else {
      if (outcome.isError !== undefined) body.isError = outcome.isError;
      if (outcome.result !== undefined) {
        const text = jsonOf(outcome.result);
        if (text === undefined) body.omitted = 'not_json';
        else if (new TextEncoder().encode(text).length > maxReportBytes) body.omitted = 'too_large';
        else body.result = JSON.parse(text);
      }
    }
    const res = await request(http, 'POST', '/api/v1/decide/outcome', body, opts.signal);
    if (res.kind !== 'ok') return { reported: false, reason: res.message };
    const a = res.body as { eventId?: unknown; findings?: unknown; result?: unknown };
    if (typeof a?.eventId !== 'string') return { reported: false, reason: "Warden's answer to the outcome report has no event id" };
    return { reported: true, eventId: a.eventId, findings: Array.isArray(a.findings) ? (a.findings as Finding[]) : [], masked: 'result' in a, ...('result' in a ? { maskedResult: a.result } : {}) };
  }

  return { decide, decideAndWait, reportOutcome };
}

/** A decision the SDK made itself, naming its code as the rule; an approval's own decision keeps its request. */
function sdkDecision(effect: 'allow' | 'deny', code: SdkErrorCode, message: string, from?: Decision): ClientDecision {
  return {
    effect,
    reasons: [{ policy: 'warden-sdk', version: 1, rule: code, effect, message }],
    warnings: [],
    findings: [],
    obligations: [],
    ...(from?.approvalRequest ? { approvalRequest: from.approvalRequest } : {}),
    ...(from?.auditEventId ? { auditEventId: from.auditEventId } : {}),
    source: 'sdk',
    sdkCode: code,
  };
}

function refusedDecision(status: number, code: string | undefined, message: string): ClientDecision {
  const auth = status === 401 || status === 403;
  return sdkDecision('deny', auth ? 'sdk.unauthorized' : 'sdk.refused', `Warden refused the request (${status}${code ? ` ${code}` : ''}): ${message}`);
}

function jsonOf(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}
