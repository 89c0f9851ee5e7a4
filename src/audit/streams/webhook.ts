import { createHmac } from 'node:crypto';
import type { AuditEvent } from '../../domain/index.js';
import type { Transport } from './destination.js';

/** The header names a receiver checks. */
export const WEBHOOK_HEADERS = { signature: 'x-warden-signature', timestamp: 'x-warden-timestamp', delivery: 'x-warden-delivery' } as const;

/** `sha256=<hex>` HMAC over `<timestamp>.<body>`: binding the time stops a captured request being replayed later. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** POSTs each batch as `{ destination, tenantId, events }`; any non-2xx answer is a failure to retry. */
export function webhookTransport(opts: { url: string; secret: string; timeoutMs?: number; now?: () => Date }): Transport {
  return {
    async deliver(destination, tenantId, events: readonly AuditEvent[]) {
      const body = JSON.stringify({ destination, tenantId, events });
      const timestamp = String(Math.floor((opts.now?.() ?? new Date()).getTime() / 1000));
      const first = events[0]?.integrity?.seq;
      const last = events.at(-1)?.integrity?.seq;
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.signature]: signWebhook(opts.secret, timestamp, body),
          [WEBHOOK_HEADERS.timestamp]: timestamp,
          [WEBHOOK_HEADERS.delivery]: `${destination}:${tenantId}:${first}-${last}`,
        },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    },
    async close() {},
  };
}
