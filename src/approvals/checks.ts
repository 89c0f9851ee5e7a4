import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { failedOutcome, type CheckPort, type CheckRequest } from '../checkpoint/index.js';
import { canonicalHostName, type CheckOutcome, type CheckRequirement, type Clock } from '../domain/index.js';
import { systemResolve, vetHost, type ResolveHost, type ResolvedAddress } from './check-guard.js';
import { signCheckBody } from './check-signature.js';

/** The largest answer a check may send; a larger one is an error. */
export const MAX_CHECK_ANSWER_BYTES = 64 * 1024;
/** A check's `reason` is cut to this many characters before it enters the decision. */
const MAX_REASON_CHARS = 1024;
const VERDICTS = new Set(['allow', 'deny', 'require_approval']);
// Controls, DEL and bidi overrides (the set of src/domain/control-chars.ts): a reason becomes a
// one-line message in decisions, logs and consoles.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** How the check client signs, guards and caches. */
export interface CheckClientOptions {
  /** The HMAC-SHA256 key of `X-Warden-Signature`; without it requests go out unsigned (`onUnsigned` is called once). */
  secret?: string | undefined;
  /** Hosts that may resolve to loopback, private or link-local addresses: exact names or IP literals. @default none */
  allowHosts?: readonly string[];
  /** Stamps `X-Warden-Timestamp` and `sentAt`, and expires cached answers. */
  clock: Clock;
  /** Resolves a host to all its addresses. @default `dns.lookup(host, { all: true })` */
  resolve?: ResolveHost;
  /** Most answers kept for reuse (least recently used goes first). @default 1000 */
  cacheEntries?: number;
  /** Called once, before the first request that goes out unsigned. */
  onUnsigned?: () => void;
}

type Answer = { verdict: CheckOutcome['verdict']; reason?: string };

/** Why a 2xx body is not a usable answer, or the answer. */
function parseAnswer(text: string): Answer | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'the answer is not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the answer is not a JSON object';
  const { verdict, reason } = v as { verdict?: unknown; reason?: unknown };
  if (typeof verdict !== 'string' || !VERDICTS.has(verdict)) return 'the answer has no `verdict` of allow, deny or require_approval';
  if (reason !== undefined && typeof reason !== 'string') return 'the answer\'s `reason` is not a string';
  const said = reason?.replace(UNPRINTABLE, ' ').trim().slice(0, MAX_REASON_CHARS);
  return { verdict: verdict as Answer['verdict'], ...(said ? { reason: said } : {}) };
}

/** A `lookup` for node:http that answers the vetted address and never asks DNS again. */
function pinned(address: ResolvedAddress): LookupFunction {
  return (_host, options, callback) => {
    if (options.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  };
}

/** POSTs one signed body to the vetted address; resolves with the answer or why there is none. */
function post(url: URL, address: ResolvedAddress, headers: Record<string, string>, body: string, signal: AbortSignal, late: string): Promise<Answer | string> {
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // No agent: a pooled socket could outlive the address vetted for this request.
    const req = send(url, { method: 'POST', headers, lookup: pinned(address), agent: false, signal }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        return resolve(`HTTP ${status}: redirects are not followed${res.headers.location ? ` (to \`${res.headers.location.slice(0, 200)}\`)` : ''}`);
      }
      if (status < 200 || status >= 300) {
        res.resume();
        return resolve(`HTTP ${status}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_CHECK_ANSWER_BYTES) {
          res.destroy();
          resolve(`the answer is larger than ${MAX_CHECK_ANSWER_BYTES} bytes`);
        } else chunks.push(c);
      });
      res.on('end', () => resolve(parseAnswer(Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (err) => resolve(describe(err, signal, late)));
    });
    req.on('error', (err) => resolve(describe(err, signal, late)));
    req.end(body);
  });
}

function describe(err: Error, signal: AbortSignal, late: string): string {
  if (signal.aborted) return late;
  const code = (err as { code?: string }).code;
  return code ? `the request failed (${code})` : `the request failed: ${err.message}`;
}

/** Resolves `work`, or `late` once the signal aborts, whichever comes first. */
function before<T>(work: Promise<T>, signal: AbortSignal, late: T): Promise<T> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(late);
    const onAbort = () => resolve(late);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, () => resolve(late)).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The HTTP status check client: POSTs `{ check, tenant, digest, action, sentAt }` to every check of a
 * decision in parallel, HMAC-signed with a timestamp, each within its own timeout; refuses hosts that
 * resolve to non-public addresses unless allow-listed and connects only to the address it judged; does
 * not follow redirects; reuses an answer per (check, URL, digest) for the check's `cache` time. Never
 * rejects: every failure is an outcome whose verdict is the check's `onError` (docs/approvals.md).
 */
export function createCheckClient(opts: CheckClientOptions): CheckPort {
  const allowed = new Set((opts.allowHosts ?? []).map((h) => canonicalHostName(h) ?? h.toLowerCase()));
  const resolveHost = opts.resolve ?? systemResolve;
  const capacity = opts.cacheEntries ?? 1000;
  // Insertion order is recency order: a hit is moved to the end, the first key is the least recently used.
  const cache = new Map<string, { answer: Answer; expires: number }>();
  let warned = false;

  const remember = (key: string, answer: Answer, ms: number) => {
    cache.delete(key);
    cache.set(key, { answer, expires: opts.clock.now().getTime() + ms });
    while (cache.size > capacity) cache.delete(cache.keys().next().value!);
  };
  const recall = (key: string): Answer | undefined => {
    const hit = cache.get(key);
    if (!hit) return undefined;
    cache.delete(key);
    if (hit.expires <= opts.clock.now().getTime()) return undefined;
    cache.set(key, hit);
    return hit.answer;
  };

  const runOne = async (check: CheckRequirement, request: CheckRequest): Promise<CheckOutcome> => {
    const t0 = performance.now();
    const ms = () => Math.round((performance.now() - t0) * 10) / 10;
    const key = `${check.name}\0${check.url}\0${request.digest}`;
    const outcome = (a: Answer, cached?: boolean): CheckOutcome => ({ policy: check.policy, rule: check.rule, name: check.name, verdict: a.verdict, ...(a.reason !== undefined ? { reason: a.reason } : {}), ...(cached ? { cached } : {}), ms: ms() });
    if (check.cacheMs > 0) {
      const hit = recall(key);
      if (hit) return outcome(hit, true);
    }
    let url: URL;
    try {
      url = new URL(check.url);
    } catch {
      return failedOutcome(check, 'the check URL does not parse', ms());
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return failedOutcome(check, `scheme \`${url.protocol}\` is not http or https`, ms());
    const signal = AbortSignal.timeout(check.timeoutMs);
    const late = `no answer within ${check.timeoutMs}ms`;
    const vetted = await before(vetHost(url, allowed, resolveHost), signal, { ok: false as const, error: late });
    if (!vetted.ok) return failedOutcome(check, vetted.error, ms());
    const now = opts.clock.now();
    const body = JSON.stringify({ check: check.name, tenant: request.tenantId, digest: request.digest, action: request.action, sentAt: now.toISOString() });
    const timestamp = Math.floor(now.getTime() / 1000);
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'X-Warden-Timestamp': String(timestamp), 'User-Agent': 'warden-status-check' };
    if (opts.secret) headers['X-Warden-Signature'] = signCheckBody(opts.secret, timestamp, body);
    else if (!warned) {
      warned = true;
      opts.onUnsigned?.();
    }
    const answer = await before(post(url, vetted.address, headers, body, signal, late), signal, late);
    if (typeof answer === 'string') return failedOutcome(check, answer, ms());
    if (check.cacheMs > 0) remember(key, answer, check.cacheMs);
    return outcome(answer);
  };

  return {
    run: (requirements, request) =>
      Promise.all(
        requirements.map((check) =>
          runOne(check, request).catch((err: unknown) => failedOutcome(check, `the check failed: ${err instanceof Error ? err.message : String(err)}`)),
        ),
      ),
  };
}
