import type { AbuseEngine } from '../abuse/index.js';
import { newAuditEvent, type Clock } from '../domain/index.js';
import type { AuthFailureLimiter } from '../identity/index.js';

/**
 * The limiter, also telling the abuse rules of each failed authentication as an `auth.token.failed`
 * event: seen by the rules (the default pack's `auth-failures`), never written to the audit log, so a
 * flood of bad tokens cannot flood the log. A failure belongs to no tenant yet: it is tenant `default`'s.
 */
export function signallingFailures(limiter: AuthFailureLimiter, abuse: Pick<AbuseEngine, 'observe'>, clock: Clock, surface: 'api' | 'gateway'): AuthFailureLimiter {
  return {
    blocked: (ip) => limiter.blocked(ip),
    succeeded: (ip) => limiter.succeeded(ip),
    failed(ip) {
      limiter.failed(ip);
      abuse.observe([
        newAuditEvent(
          { scope: 'default', category: 'auth', type: 'auth.token.failed', severity: 'low', outcome: 'failure', actor: { type: 'system', id: 'anonymous', ip }, details: { surface } },
          clock.now(),
        ),
      ]);
    },
  };
}
