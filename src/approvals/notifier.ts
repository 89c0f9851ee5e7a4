import { createHmac } from 'node:crypto';
import type { ApprovalRequest, ApprovalWebhook } from '../domain/index.js';
import { scopeCovers } from '../identity/index.js';
import type { ApprovalLinks } from './links.js';
import { jsonMessage, slackMessage, type MessageLinks } from './webhook-message.js';

export type { ApprovalWebhook };

/** `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: binding the time stops a captured delivery being replayed later. */
export function signApprovalWebhook(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface ApprovalNotifierDeps {
  webhooks: readonly ApprovalWebhook[];
  links: Pick<ApprovalLinks, 'url'>;
  publicUrl: () => string;
  logger?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void } | undefined;
  /** Waits before the 2nd, 3rd and 4th try. @default [500, 2000, 8000] */
  retryDelaysMs?: readonly number[];
  /** One try's time limit. @default 10000 */
  timeoutMs?: number;
  now?: () => Date;
}

/** Sends each new request to the webhooks whose tenant and scope cover it. */
export interface ApprovalNotifier {
  /** The service's `onRequest` hook: starts the deliveries and returns at once (the decision never waits on them). */
  notify(r: ApprovalRequest): void;
  /** Resolves when every delivery started so far has finished (succeeded or given up); tests and shutdown. */
  idle(): Promise<void>;
}

/** Why an answer is worth another try: a 5xx or 429, or no answer at all (timeout, connection refused). */
const retriable = (status: number | undefined): boolean => status === undefined || status >= 500 || status === 429;

/** Builds the notifier; with no webhooks it does nothing. */
export function createApprovalNotifier(deps: ApprovalNotifierDeps): ApprovalNotifier {
  const delays = deps.retryDelaysMs ?? [500, 2000, 8000];
  const running = new Set<Promise<void>>();

  const deliver = async (hook: ApprovalWebhook, r: ApprovalRequest, links: MessageLinks): Promise<void> => {
    const body = JSON.stringify(hook.format === 'json' ? jsonMessage(r, links) : slackMessage(r, links));
    for (let attempt = 0; ; attempt++) {
      // A fresh timestamp per try: a receiver that refuses old timestamps still takes a late retry.
      const timestamp = String(Math.floor((deps.now?.() ?? new Date()).getTime() / 1000));
      let status: number | undefined;
      let failure: string;
      try {
        const res = await fetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-warden-timestamp': timestamp, 'x-warden-signature': signApprovalWebhook(hook.secret, timestamp, body), 'x-warden-delivery': `${r.id}:${hook.name}` },
          body,
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
          // A redirect could carry the signed body somewhere the operator never configured.
          redirect: 'manual',
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        status = res.status;
        failure = `answered ${res.status}`;
      } catch (err) {
        failure = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name ?? String(err);
      }
      if (!retriable(status) || attempt >= delays.length) {
        deps.logger?.warn({ webhook: hook.name, approval: r.id, tries: attempt + 1, failure }, 'approval notification not delivered');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  };

  const send = async (r: ApprovalRequest, hooks: readonly ApprovalWebhook[]): Promise<void> => {
    let links: MessageLinks;
    try {
      links = { approve: await deps.links.url(r, 'approve'), deny: await deps.links.url(r, 'deny'), show: `${deps.publicUrl()}/api/v1/approvals/${r.id}` };
    } catch (err) {
      deps.logger?.warn({ approval: r.id, err: String(err) }, 'approval links could not be made; no notification sent');
      return;
    }
    await Promise.all(hooks.map((h) => deliver(h, r, links)));
  };

  return {
    notify(r) {
      const hooks = deps.webhooks.filter((h) => h.tenant === r.tenantId && scopeCovers(h.scope, r.subject.scope));
      if (hooks.length === 0) return;
      const p = send(r, hooks).finally(() => running.delete(p));
      running.add(p);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
