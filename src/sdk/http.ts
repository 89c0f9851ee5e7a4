/** How the SDK talks to Warden: one JSON request, retried on what may pass, each attempt timed out. */
export interface HttpSettings {
  /** Warden's base URL, without a trailing slash. */
  readonly base: string;
  readonly token: string;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Attempts after the first. */
  readonly retries: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** A `Retry-After` longer than this is not waited for: the request fails as unreachable. */
  readonly maxRetryAfterMs: number;
  readonly fetch: typeof fetch;
  /** In [0, 1): the jitter. */
  readonly random: () => number;
}

/** What one request came to after its retries. */
export type HttpOutcome =
  | { readonly kind: 'ok'; readonly status: number; readonly body: unknown }
  /** Warden answered no usable status in any attempt: network errors, timeouts, 5xx or 429 to the end. */
  | { readonly kind: 'unreachable'; readonly message: string; readonly status?: number }
  /** Warden refused the request (a 4xx other than 429): retrying would not help. */
  | { readonly kind: 'refused'; readonly status: number; readonly code: string | undefined; readonly message: string };

const RETRYABLE = (status: number) => status === 429 || status >= 500;

/**
 * Sends one request, retrying network errors, timeouts, 5xx and 429 with exponential backoff and
 * full jitter (a 429's or 503's `Retry-After` is honoured instead, up to `maxRetryAfterMs`). Never
 * throws but for the caller's own abort, which it rethrows at once.
 */
export async function request(http: HttpSettings, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined): Promise<HttpOutcome> {
  let last: HttpOutcome = { kind: 'unreachable', message: 'no attempt was made' };
  for (let attempt = 0; attempt <= http.retries; attempt++) {
    signal?.throwIfAborted();
    let retryAfterMs: number | undefined;
    const timeout = AbortSignal.timeout(http.timeoutMs);
    try {
      const res = await http.fetch(`${http.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${http.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const text = await res.text();
      const parsed = parseJson(text);
      if (res.ok) return { kind: 'ok', status: res.status, body: parsed };
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const message = typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`;
      if (!RETRYABLE(res.status)) return { kind: 'refused', status: res.status, code: typeof error?.code === 'string' ? error.code : undefined, message };
      last = { kind: 'unreachable', status: res.status, message: `Warden answered ${res.status}: ${message}` };
      retryAfterMs = retryAfterOf(res.headers.get('retry-after'), Date.now());
      if (retryAfterMs !== undefined && retryAfterMs > http.maxRetryAfterMs) return { ...last, message: `${last.message} (it asks to retry after ${Math.ceil(retryAfterMs / 1000)}s)` };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      last = { kind: 'unreachable', message: timeout.aborted ? `Warden did not answer within ${http.timeoutMs}ms` : `Warden could not be reached: ${describe(err)}` };
    }
    if (attempt < http.retries) await sleep(retryAfterMs ?? backoffMs(http, attempt), signal);
  }
  return last;
}

/** Full jitter over an exponential ceiling: attempt n waits a random time below min(max, base·2ⁿ). */
export function backoffMs(http: Pick<HttpSettings, 'backoffBaseMs' | 'backoffMaxMs' | 'random'>, attempt: number): number {
  const ceiling = Math.min(http.backoffMaxMs, http.backoffBaseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * http.random());
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterOf(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits, or rejects with the signal's reason when it fires first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the reason (ECONNREFUSED …) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
